variable "ssh_key_name" {
  description = "Name of an existing EC2 key pair in eu-central-1 for SSH to the instances."
  type        = string
  default     = "ops"
}

variable "lb_ami_id" {
  description = "AMI for the load balancers; null picks the newest Ubuntu 24.04 LTS image."
  type        = string
  default     = null
}

variable "backend_ami_id" {
  description = "AMI for the demo backends; null picks the newest Ubuntu 24.04 LTS image."
  type        = string
  default     = null
}
