# The module's inputs (hacompile.plan.module): each region's root, terraform/<region>/main.tf,
# sets them from the spec. Each validation checks one input; how inputs fit together (a load
# balancer's subnet is a key of var.subnets, one slot IP per EIP) is checked by preconditions.
variable "name" {
  description = "The deployment's name (the spec's `name`): descriptions and subnet Name tags."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.name))
    error_message = "A DNS label."
  }
}

variable "name_prefix" {
  description = "Prefix of every Name tag, inventory host and deployment tag value: \"<name>-<region>-\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*-$", var.name_prefix))
    error_message = "Ends in \"-\"."
  }
}

variable "names" {
  description = "Names (and IAM name prefixes) of the VPC, route table, security groups and roles."
  type        = object({ vpc = string, route_table = string, lb_group = string, lb_role_prefix = string, backend_group = string, flow_logs_role_prefix = string })
}

variable "inventory_group" {
  description = "Ansible group of this region in the ansible_inventory output (no dashes)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]+$", var.inventory_group))
    error_message = "Letters, digits, underscores."
  }
}

variable "deployment_tag_key" {
  description = "Tag whose value names this deployment: the EIPs, the load balancers' interfaces and their role carry it, and the role may move only EIPs between interfaces that carry its own value."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC the module creates."
  type        = string

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "An IPv4 CIDR block."
  }
}

variable "subnets" {
  description = "One public subnet per availability zone, by key (the zone's letter)."
  type        = map(object({ zone = string, cidr = string }))

  validation {
    condition     = length(var.subnets) >= 2
    error_message = "At least two zones: one zone is one failure domain."
  }

  validation {
    condition     = alltrue([for s in values(var.subnets) : can(cidrnetmask(s.cidr))])
    error_message = "Each subnet's cidr is an IPv4 CIDR block."
  }
}

variable "load_balancers" {
  description = "The load balancers by key: their subnet key, primary private IP (management and VRRP) and one secondary private IP per EIP, in EIP order (where that EIP lands while this node holds it). Keepalived's configuration names these addresses."
  type        = map(object({ subnet = string, private_ip = string, slot_ips = list(string) }))

  validation {
    condition     = length(var.load_balancers) >= 2
    error_message = "At least two load balancers."
  }

  validation {
    condition     = alltrue(flatten([for lb in values(var.load_balancers) : [for ip in concat([lb.private_ip], lb.slot_ips) : can(cidrnetmask("${ip}/32"))]]))
    error_message = "Addresses are IPv4 addresses."
  }
}

variable "eips" {
  description = "Keys of the Elastic IPs, one VRRP instance each. Allocated here, associated only by Keepalived's notify scripts."
  type        = list(string)

  validation {
    condition     = length(var.eips) >= 1
    error_message = "At least one EIP."
  }

  validation {
    condition     = alltrue([for k in var.eips : can(regex("^[a-z0-9_]+$", k))])
    error_message = "Letters, digits, underscores."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the load balancers."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "An instance type such as \"t3.small\"."
  }
}

variable "root_volume_gb" {
  description = "Size of each load balancer's encrypted gp3 root volume, in GiB."
  type        = number

  validation {
    condition     = var.root_volume_gb >= 8 && var.root_volume_gb <= 1024 && floor(var.root_volume_gb) == var.root_volume_gb
    error_message = "A whole number of GiB from 8 to 1024."
  }
}

variable "ssh_key_name" {
  description = "Existing EC2 key pair for SSH to the instances."
  type        = string
}

variable "ssh_cidrs" {
  description = "Where SSH to the instances may come from."
  type        = list(string)

  validation {
    condition     = alltrue([for c in var.ssh_cidrs : can(cidrnetmask(c))])
    error_message = "IPv4 CIDR blocks."
  }
}

variable "lb_ami_id" {
  description = "AMI of the load balancers; null looks up the newest image lb_ami_filter names."
  type        = string
  default     = null
}

variable "lb_ami_filter" {
  description = "The AMI lookup when lb_ami_id is null: owner account or alias, name pattern, architecture."
  type        = object({ owner = string, name = string, architecture = string })
}

variable "frontends" {
  description = "TCP port of each HAProxy frontend, by name: open to anywhere."
  type        = map(number)

  validation {
    condition     = alltrue([for port in values(var.frontends) : port >= 1 && port <= 65535 && floor(port) == port])
    error_message = "Ports from 1 to 65535."
  }
}

variable "lb_egress" {
  description = "Outbound rules of the load balancers' security group, by rule name: to a CIDR or to one of the module's groups (to_group \"lb\" or \"backend\"); protocol tcp, udp, 112 (VRRP) or -1 (all; no ports)."
  type        = map(object({ description = string, protocol = string, from_port = optional(number), to_port = optional(number), cidr = optional(string), to_group = optional(string) }))

  validation {
    condition     = alltrue([for k, r in var.lb_egress : can(regex("^[a-z0-9_]+$", k))])
    error_message = "Rule names are lower-case letters, digits and underscores."
  }

  validation {
    condition     = alltrue([for r in values(var.lb_egress) : contains(["tcp", "udp", "112", "-1"], r.protocol)])
    error_message = "protocol is tcp, udp, 112 or -1."
  }

  validation {
    condition     = alltrue([for r in values(var.lb_egress) : (r.cidr == null) != (r.to_group == null)])
    error_message = "Each rule names exactly one of cidr and to_group."
  }

  validation {
    condition     = alltrue([for r in values(var.lb_egress) : r.cidr == null ? true : can(cidrnetmask(r.cidr))])
    error_message = "cidr is an IPv4 CIDR block."
  }

  validation {
    condition     = alltrue([for r in values(var.lb_egress) : r.to_group == null ? true : contains(["lb", "backend"], r.to_group)])
    error_message = "to_group is \"lb\" or \"backend\"."
  }

  validation {
    condition     = alltrue([for r in values(var.lb_egress) : contains(["tcp", "udp"], r.protocol) == (r.from_port != null && r.to_port != null)])
    error_message = "tcp and udp rules have from_port and to_port; 112 and -1 have none."
  }
}

variable "eip_failover_policy" {
  description = "The load balancers' only permission (IAM policy JSON): move this deployment's EIPs between this deployment's interfaces."
  type        = string

  validation {
    condition     = can(jsondecode(var.eip_failover_policy))
    error_message = "A JSON document."
  }
}

variable "vip_failover_policy" {
  description = "IAM policy JSON for the private VIPs: reassign the VIPs' private IPs to this deployment's interfaces (null: the region has none)."
  type        = string
  default     = null

  validation {
    condition     = var.vip_failover_policy == null ? true : can(jsondecode(var.vip_failover_policy))
    error_message = "A JSON document."
  }
}

variable "flow_logs" {
  description = "VPC flow logs to CloudWatch Logs: the log group, its retention, and the delivery role's trust and permission policies (JSON)."
  type        = object({ log_group = string, retention_days = number, assume_role_policy = string, delivery_policy = string })

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs.retention_days)
    error_message = "A retention CloudWatch Logs offers."
  }

  validation {
    condition     = can(jsondecode(var.flow_logs.delivery_policy))
    error_message = "A JSON document."
  }
}

variable "backends" {
  description = "Demo web backends by name: their subnet key and private IP."
  type        = map(object({ subnet = string, private_ip = string }))

  validation {
    condition     = alltrue([for b in values(var.backends) : can(cidrnetmask("${b.private_ip}/32"))])
    error_message = "Addresses are IPv4 addresses."
  }
}

variable "backend_port" {
  description = "Port the demo backends serve on: open to the load balancers only."
  type        = number

  validation {
    condition     = var.backend_port >= 1 && var.backend_port <= 65535 && floor(var.backend_port) == var.backend_port
    error_message = "A port from 1 to 65535."
  }
}

variable "backend_instance_type" {
  description = "EC2 instance type of the demo backends."
  type        = string
}

variable "backend_ami_id" {
  description = "AMI of the demo backends; null looks up the newest image backend_ami_filter names."
  type        = string
  default     = null
}

variable "backend_ami_filter" {
  description = "The demo backends' AMI lookup when backend_ami_id is null."
  type        = object({ owner = string, name = string, architecture = string })
}

variable "backend_egress" {
  description = "Outbound rules of the demo backends' security group, by rule name: to a CIDR or to one of the module's groups (to_group \"lb\" or \"backend\"); protocol tcp, udp, 112 (VRRP) or -1 (all; no ports)."
  type        = map(object({ description = string, protocol = string, from_port = optional(number), to_port = optional(number), cidr = optional(string), to_group = optional(string) }))

  validation {
    condition     = alltrue([for k, r in var.backend_egress : can(regex("^[a-z0-9_]+$", k))])
    error_message = "Rule names are lower-case letters, digits and underscores."
  }

  validation {
    condition     = alltrue([for r in values(var.backend_egress) : contains(["tcp", "udp", "112", "-1"], r.protocol)])
    error_message = "protocol is tcp, udp, 112 or -1."
  }

  validation {
    condition     = alltrue([for r in values(var.backend_egress) : (r.cidr == null) != (r.to_group == null)])
    error_message = "Each rule names exactly one of cidr and to_group."
  }

  validation {
    condition     = alltrue([for r in values(var.backend_egress) : r.cidr == null ? true : can(cidrnetmask(r.cidr))])
    error_message = "cidr is an IPv4 CIDR block."
  }

  validation {
    condition     = alltrue([for r in values(var.backend_egress) : r.to_group == null ? true : contains(["lb", "backend"], r.to_group)])
    error_message = "to_group is \"lb\" or \"backend\"."
  }

  validation {
    condition     = alltrue([for r in values(var.backend_egress) : contains(["tcp", "udp"], r.protocol) == (r.from_port != null && r.to_port != null)])
    error_message = "tcp and udp rules have from_port and to_port; 112 and -1 have none."
  }
}
