# Everything a student may want to change. The sizes default to what was measured on the
# reference deployment; each description says why.
# BEGIN INSTRUCTOR
# The measurements: docs/scaling.md, in the section named above each variable.
# END INSTRUCTOR

variable "region" {
  description = "AWS region for every resource (CloudFront is global). The cost table in README.md is for us-east-1."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of every resource's name, and the Project tag."
  type        = string
  default     = "birdai"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "Lower-case letters, digits and '-', 2 to 21 characters, starting with a letter (bucket and load balancer names allow no more)."
  }
}

variable "vpc_cidr" {
  description = "Address range of the VPC; the subnets are /24s carved out of it (network.tf)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "load_balancer" {
  description = "What clients reach: \"alb\", an Application Load Balancer in front of an Auto Scaling group, or \"nginx\", the assignment's proxy tier: one nginx instance in front of a fixed set of app servers (proxy.tf)."
  type        = string
  default     = "alb"

  validation {
    condition     = contains(["alb", "nginx"], var.load_balancer)
    error_message = "load_balancer is \"alb\" or \"nginx\"."
  }
}

variable "servers_set_up_by" {
  description = "Who turns the proxy and app instances into bird.ai. \"user_data\": their own boot scripts (templates/), so an instance the Auto Scaling group replaces sets itself up. \"ansible\" (load_balancer = \"nginx\" only): deploy/ansible/'s playbooks, over SSH; the instances start as bare Debian 12 with only admin_ssh_public_key, and the ansible_inventory output is the playbooks' inventory (README.md, \"Two ways to set the servers up\")."
  type        = string
  default     = "user_data"

  validation {
    condition     = contains(["user_data", "ansible"], var.servers_set_up_by)
    error_message = "servers_set_up_by is \"user_data\" or \"ansible\"."
  }

  # The Auto Scaling group behind the ALB starts and replaces app servers by itself, at
  # any hour, with no one there to run a playbook: only user data can set those up.
  validation {
    condition     = var.servers_set_up_by == "user_data" || var.load_balancer == "nginx"
    error_message = "servers_set_up_by = \"ansible\" needs load_balancer = \"nginx\": the ALB's Auto Scaling group replaces servers by itself, and only user data sets those up."
  }

  validation {
    condition     = var.servers_set_up_by == "user_data" || var.admin_ssh_public_key != ""
    error_message = "servers_set_up_by = \"ansible\" needs admin_ssh_public_key: Ansible logs in with it."
  }
}

variable "admin_ssh_public_key" {
  description = "The OpenSSH public key (one line, \"ssh-ed25519 AAAA... you@laptop\") that Ansible logs in with as Debian's user admin (servers_set_up_by = \"ansible\"). Its private half stays on your machine, in ssh-agent."
  type        = string
  default     = ""

  validation {
    condition     = var.admin_ssh_public_key == "" || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*( .*)?$", var.admin_ssh_public_key))
    error_message = "One line of an OpenSSH public key (the .pub file), e.g. \"ssh-ed25519 AAAA... you@laptop\"."
  }
}

variable "admin_ssh_cidrs" {
  description = "Where SSH to the proxy instance may come from (servers_set_up_by = \"ansible\"): your address as a /32, e.g. [\"203.0.113.7/32\"] (curl https://checkip.amazonaws.com). Empty: no SSH rule at all. The app servers take SSH from the proxy only (ProxyJump)."
  type        = list(string)
  default     = []

  # IPv4 ranges (the VPC has no IPv6) of at most 65,536 addresses: never 0.0.0.0/0,
  # whose port 22 bots find and try passwords on within minutes.
  validation {
    condition     = alltrue([for cidr in var.admin_ssh_cidrs : can(cidrnetmask(cidr)) && can(regex("/(1[6-9]|2[0-9]|3[0-2])$", cidr))])
    error_message = "IPv4 ranges of /16 or narrower, e.g. \"203.0.113.7/32\": never 0.0.0.0/0 or ::/0."
  }
}

variable "certificate_arn" {
  description = "ARN of an ACM certificate for site_host_names. Empty: the load balancer serves plain HTTP on port 80 (a course demo; docs/deploy-aws.md, section 11 B). Set: HTTPS on 443, and port 80 redirects to it. Only the ALB uses it."
  type        = string
  default     = ""
}

variable "site_host_names" {
  description = "Host names browsers use (your domain, pointed at the load balancer by a CNAME). Empty: the load balancer's own DNS name, which is fine for a demo."
  type        = list(string)
  default     = []
}

variable "image_tag" {
  description = "Tag of the bird.ai image in the ECR repository (ecr.tf) that the app servers run. Tags are immutable: a new release is a new tag, and changing this variable rolls it out (README.md, \"Releasing a new version\")."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "A Docker tag: letters, digits, '_', '.', '-', at most 128 characters."
  }
}

# docs/scaling.md, "Which instance for each tier".  # INSTRUCTOR
variable "app_instance_type" {
  description = "App server instance type. CPU-bound work, so a c- or m-family instance, not a burstable t3/t4g (a fresh instance has no CPU credits); 2 vCPU with 4 workers."
  type        = string
  default     = "c7i.large"
}

# docs/scaling.md, "Capacity of one app server".  # INSTRUCTOR
variable "gunicorn_workers" {
  description = "gunicorn workers per app server. About two workers per vCPU, about 250 MB each plus 30 MB for the master (4 workers: about 1 GB of the c7i.large's 4 GiB)."
  type        = number
  default     = 4
}

variable "api_signup_enabled" {
  description = "API_SIGNUP_ENABLED on the app servers: POST /api/v1/signup and POST /api/v1/token, an account and an API token without a browser, which the course's autograder needs to sign up its own users. They keep the sign-up page's password validators, the app's and nginx's rate limits and the log-in lock-out (README.md, \"Sign-up and tokens for scripts\"). false: both answer 404, for a site that wants no scripted sign-ups."
  type        = bool
  default     = true
}

# docs/scaling.md, "Scale-out: 1 -> 2 -> 4 app servers".  # INSTRUCTOR
variable "app_server_count" {
  description = "App servers normally running (the Auto Scaling group's minimum and desired size; with load_balancer = \"nginx\", the number of app instances). Throughput grows in step with app servers; two, one per availability zone, keep the site up when one fails."
  type        = number
  default     = 2

  validation {
    condition     = var.app_server_count >= 1
    error_message = "At least one app server."
  }
}

# docs/scaling.md, "Where the bottleneck is".  # INSTRUCTOR
variable "app_server_max_count" {
  description = "Most app servers the Auto Scaling group may run (CPU target tracking adds them, app_servers.tf). Some 40 app servers of 0.5 CPU before one database core is the limit, so the database does not cap this."
  type        = number
  default     = 4
}

# docs/scaling.md, "The proxy's memory" and "Which instance for each tier".  # INSTRUCTOR
variable "proxy_instance_type" {
  description = "The nginx proxy instance's type (load_balancer = \"nginx\" only). nginx used 0.4 ms of CPU per request and 7 MB; give it network bandwidth and file descriptors, not CPU or memory."
  type        = string
  default     = "c7i.large"
}

# docs/scaling.md, "Which instance for each tier" (Database).  # INSTRUCTOR
variable "db_instance_class" {
  description = "RDS instance class. Its CPU is not the limit (1.1 ms per request); a memory-rich r-family instance keeps the history and map indexes in memory, and not burstable. db.r7g.large: 2 vCPU, 16 GiB."
  type        = string
  default     = "db.r7g.large"
}

variable "db_engine_version" {
  description = "PostgreSQL major version: the one the tests and the compose stack run. RDS applies its minor (security) releases in the maintenance window; a minor version pinned here would fail to create once RDS retires it."
  type        = string
  default     = "15"
}

# docs/scaling.md, "Which instance for each tier".  # INSTRUCTOR
variable "db_allocated_storage" {
  description = "Database storage in GB (gp3; RDS grows it up to 5 times this when it fills). PostgreSQL wrote 0.03 MB/s at 45 requests/s, far below gp3's baseline of 3,000 IOPS and 125 MiB/s, which 20 GB, gp3's smallest size on RDS, already has."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "A standby database in the second availability zone that RDS fails over to. Doubles the database's cost (README.md, \"What it costs\")."
  type        = bool
  default     = false
}

variable "db_keep_final_snapshot" {
  description = "Take a snapshot when `terraform destroy` deletes the database (it then costs its storage until you delete it: README.md, \"Tearing it down\")."
  type        = bool
  default     = true
}

variable "photos_force_destroy" {
  description = "Let `terraform destroy` delete the photo bucket with every photo (and every old version) in it. Off: destroy stops at a bucket that is not empty."
  type        = bool
  default     = false
}
