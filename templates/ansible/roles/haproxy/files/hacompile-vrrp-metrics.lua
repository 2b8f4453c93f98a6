-- hacompile: serves /metrics/vrrp, the node's VRRP states and last EIP claims, and (with spec
-- `tls`) /metrics/tls, each certificate's sync state, in Prometheus' text format.
-- hacompile-vrrp-metrics (keepalived role) and hacompile-tls-sync (haproxy role) write their
-- file atomically (write, then rename), so a read sees one whole version; the files are on
-- tmpfs and a few hundred bytes, so the blocking read costs microseconds.
local function file_service(path, what)
    return function(applet)
        local body = "# no " .. what .. " recorded yet (" .. path .. " is missing)\n"
        local file = io.open(path, "r")
        if file then
            body = file:read("a") or ""
            file:close()
        end
        applet:set_status(200)
        applet:add_header("content-type", "text/plain; version=0.0.4; charset=utf-8")
        applet:add_header("content-length", tostring(#body))
        applet:start_response()
        applet:send(body)
    end
end

core.register_service("hacompile_vrrp_metrics", "http",
    file_service("/run/hacompile/metrics/vrrp.prom", "VRRP state"))
core.register_service("hacompile_tls_metrics", "http",
    file_service("/run/hacompile/metrics/tls.prom", "certificate sync"))
