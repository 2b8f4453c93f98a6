-- hacompile: serves /metrics/vrrp, the node's VRRP states and last EIP claims in Prometheus'
-- text format. hacompile-vrrp-metrics (keepalived role) writes the file atomically (write,
-- then rename) on every state change and claim, so a read sees one whole version; the file
-- is on tmpfs and a few hundred bytes, so the blocking read costs microseconds.
local path = "/run/hacompile/metrics/vrrp.prom"

core.register_service("hacompile_vrrp_metrics", "http", function(applet)
    local body = "# no VRRP state recorded yet (" .. path .. " is missing)\n"
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
end)
