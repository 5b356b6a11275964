# servers_set_up_by = "ansible": Terraform makes the resources, and deploy/ansible/'s
# playbooks set the proxy and the app servers up over SSH and roll releases out
# (README.md, "Two ways to set the servers up"). The instances then start as bare
# Debian 12, the system the playbooks are written for, with nothing on them but the
# admin's SSH key; the ansible_inventory output (outputs.tf) is the playbooks' inventory.
# The release job (release_job.tf) prepares the database the same way in both modes.

locals {
  servers_set_up_by_ansible = var.servers_set_up_by == "ansible"

  # The proxy's and the app servers' system: Amazon Linux 2023 for their own boot
  # scripts, Debian 12 for the playbooks.
  server_image = (local.servers_set_up_by_ansible
    ? data.aws_ssm_parameter.debian_12[0].insecure_value
    : data.aws_ssm_parameter.amazon_linux.insecure_value
  )

  # All the user data a server that Ansible sets up gets: cloud-init adds the key to
  # Debian's default user, admin. No app, no Docker: a second copy of the app next to
  # the one the playbooks start would fight it for the port.
  admin_ssh_user_data = base64encode(join("\n", [
    "#cloud-config",
    yamlencode({ ssh_authorized_keys = [var.admin_ssh_public_key] }),
  ]))
}

# Debian 12 "bookworm" as the Debian cloud team publishes it, by AWS's public parameter
# (the AMI's ID differs by region and changes with each point release):
#   aws ssm get-parameter --name /aws/service/debian/release/12/latest/amd64
data "aws_ssm_parameter" "debian_12" {
  count = local.servers_set_up_by_ansible ? 1 : 0
  name  = "/aws/service/debian/release/12/latest/amd64"
}

locals {
  # deploy/ansible's inventory: the hosts, and every setting of its roles that comes
  # from the resources here. inventories/aws-example/hosts.yml has the same shape, with
  # a comment on each value. No secret is in it: "{{ vault_... }}" names a value of the
  # ansible-vault file, which the ansible_vault_secrets output says where to fetch from.
  # Only used with the nginx proxy tier, so one() of the proxy's lists is its one item.
  proxy_public_ip = one(aws_eip.proxy[*].public_ip)
  ansible_inventory = {
    all = {
      vars = {
        ansible_user = "admin" # Debian's AMIs' user, holding admin_ssh_public_key
        app_image    = local.image
        # Where the proxy reaches the app servers: what their security group opens.
        app_port                 = local.app_port
        proxy_app_port           = local.app_port
        app_database_url         = "postgis://${local.database_app_user}:{{ vault_database_app_password }}@${aws_db_instance.main.address}:5432/${aws_db_instance.main.db_name}"
        app_run_migrations       = false # the release job runs them, as the master user
        app_allowed_hosts        = local.site_host_names
        app_csrf_trusted_origins = local.csrf_trusted_origins
        app_https                = local.https
        app_trusted_proxy_count  = 1 # the proxy's nginx, straight in front of gunicorn
        app_bucket               = aws_s3_bucket.photos.id
        app_s3_region            = var.region
        app_cdn_domain           = aws_cloudfront_distribution.photos.domain_name
        app_cloudfront_key_id    = aws_cloudfront_public_key.photos.id
        app_gunicorn_workers     = var.gunicorn_workers
        app_api_signup_enabled   = var.api_signup_enabled
        # Secrets Manager has these; the vault holds a copy (deploy/ansible/README.md).
        app_secret_key                = "{{ vault_secret_key }}"
        app_cloudfront_private_key    = "{{ vault_cloudfront_private_key }}"
        common_deploy_authorized_keys = [var.admin_ssh_public_key]
      }
      children = {
        proxy = {
          hosts = {
            proxy1 = {
              ansible_host    = local.proxy_public_ip
              private_address = one(aws_instance.proxy[*].private_ip)
            }
          }
        }
        app = {
          # No public address: SSH hops through the proxy, the only way the app
          # servers' security group lets it in. Their host keys are taken on first
          # sight: the hop through the proxy (whose key you checked) cannot be diverted.
          vars = {
            ansible_ssh_common_args = "-o ProxyJump=admin@${local.proxy_public_ip} -o StrictHostKeyChecking=accept-new"
          }
          hosts = {
            for index, app in aws_instance.app : "app${index + 1}" => { ansible_host = app.private_ip }
          }
        }
      }
    }
  }
}
