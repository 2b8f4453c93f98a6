# The region's root passes these through; `terraform output -json ansible_inventory` there turns
# this into an Ansible inventory source. It carries only what AWS decides (addresses, IDs);
# everything hacompile decided is in ansible/inventory/hacompile.yml, and Ansible merges the two.
output "ansible_inventory" {
  description = "Ansible inventory (YAML plugin, JSON form) with the IDs the EIP scripts need."
  value = {
    all = {
      children = {
        (var.inventory_group) = {
          vars = {
            hacompile_eips = {
              for key, eip in aws_eip.service : key => {
                allocation_id = eip.allocation_id
                public_ip     = eip.public_ip
              }
            }
          }
          hosts = merge(
            {
              for key, lb in aws_instance.lb : "${var.name_prefix}${key}" => {
                ansible_host = lb.public_ip
                instance_id  = lb.id
                eni_id       = lb.primary_network_interface_id
              }
            },
            {
              for key, web in aws_instance.backend : "${var.name_prefix}${key}" => {
                ansible_host = web.public_ip
                instance_id  = web.id
              }
            },
          )
        }
      }
    }
  }
}

output "eips" {
  description = "Public addresses to publish in DNS, by EIP."
  value       = { for key, eip in aws_eip.service : key => eip.public_ip }
}

output "load_balancers" {
  description = "Management address (SSH) of each load balancer."
  value       = { for key, lb in aws_instance.lb : key => lb.public_ip }
}
