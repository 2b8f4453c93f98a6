# `terraform output -json ansible_inventory > ../../ansible/inventory/terraform-eu-central-1.json`
# turns this into an Ansible inventory source (see the module's outputs.tf).
output "ansible_inventory" {
  description = "Ansible inventory (YAML plugin, JSON form) with the IDs the EIP scripts need."
  value       = module.ha.ansible_inventory
}

output "eips" {
  description = "Public addresses to publish in DNS, by EIP."
  value       = module.ha.eips
}

output "load_balancers" {
  description = "Management address (SSH) of each load balancer."
  value       = module.ha.load_balancers
}
