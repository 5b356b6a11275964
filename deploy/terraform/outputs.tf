# What `terraform output` prints after an apply: where the site is, and the names the
# README's next steps need.

output "url" {
  description = "The site, as browsers reach it (point your domain's CNAME at load_balancer_dns_name first if you set site_host_names)."
  value       = local.site_url
}

output "load_balancer_dns_name" {
  description = "The ALB's DNS name, or the nginx proxy's public DNS name."
  value       = local.use_alb ? aws_lb.app[0].dns_name : aws_eip.proxy[0].public_dns
}

output "ecr_repository_url" {
  description = "Push the image here: docker push <this>:<image_tag>."
  value       = aws_ecr_repository.app.repository_url
}

output "photos_bucket" {
  description = "The private photo bucket (AWS_STORAGE_BUCKET_NAME)."
  value       = aws_s3_bucket.photos.id
}

output "cdn_domain" {
  description = "The CloudFront distribution's domain that serves the photos (AWS_S3_CUSTOM_DOMAIN)."
  value       = aws_cloudfront_distribution.photos.domain_name
}

output "cloudfront_key_id" {
  description = "The public key that checks signed photo URLs (AWS_CLOUDFRONT_KEY_ID)."
  value       = aws_cloudfront_public_key.photos.id
}

output "database_endpoint" {
  description = "RDS PostgreSQL's host name, reachable from the app servers only."
  value       = aws_db_instance.main.address
}

output "database_master_secret_arn" {
  description = "Where RDS keeps the master user's password (Secrets Manager)."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "release_job_instance_id" {
  description = "The release job's instance: aws ec2 get-console-output --latest --instance-id <this>."
  value       = aws_instance.release_job.id
}

# For deploy/ansible/'s inventory (load_balancer = "nginx" only: with the ALB, the Auto
# Scaling group replaces app servers and their user data sets them up, so their
# addresses are not fixed).
output "proxy_public_ip" {
  description = "The nginx proxy's Elastic IP (Ansible reaches the tier through it); null with the ALB."
  value       = local.use_alb ? null : aws_eip.proxy[0].public_ip
}

output "proxy_private_ip" {
  description = "The nginx proxy's address inside the VPC; null with the ALB."
  value       = local.use_alb ? null : aws_instance.proxy[0].private_ip
}

output "app_private_ips" {
  description = "The app servers' addresses (private subnets: reach them through the proxy, ProxyJump); empty with the ALB."
  value       = aws_instance.app[*].private_ip
}

# With servers_set_up_by = "ansible": deploy/ansible's inventory and where its vault's
# values are (deploy/ansible/README.md, "On AWS"):
#   terraform output -raw ansible_inventory > ../ansible/inventories/aws/hosts.yml
output "ansible_inventory" {
  description = "deploy/ansible's inventory (YAML): the proxy and app servers' addresses and the roles' settings from these resources; null unless servers_set_up_by = \"ansible\"."
  value       = local.servers_set_up_by_ansible ? yamlencode(local.ansible_inventory) : null
}

output "ansible_vault_secrets" {
  description = "The Secrets Manager secrets that deploy/ansible's vault copies, by vault name (the values are not here)."
  value = {
    vault_secret_key             = aws_secretsmanager_secret.django_secret_key.arn
    vault_database_app_password  = aws_secretsmanager_secret.database_app_password.arn
    vault_cloudfront_private_key = aws_secretsmanager_secret.cloudfront_private_key.arn
  }
}
