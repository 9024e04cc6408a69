# Quickstart in HCL: upload training data, fine-tune gpt-4o-mini, deploy the model in two regions.
#
#   tofu plan     # the data is validated here (file and line), with its cost estimate
#   tofu apply    # uploads, trains (waiting), deploys in both regions at once
#
# The provider is installed as the README ("Terraform and OpenTofu") shows. Its settings come from
# the provider block or from the same environment variables as the Pulumi provider's
# (AOAI_FT_ARM_ENDPOINT, AOAI_FT_CREDENTIAL, AOAI_FT_ACCESS_TOKEN, AZURE_OPENAI_API_KEY, ...).
# The defaults below name the local emulator's accounts (`aoai-ft emulator`).

terraform {
  required_providers {
    aoai = {
      source = "terraform.local/aoai-finetune/aoai"
    }
  }
}

variable "subscription_id" {
  type    = string
  default = "00000000-0000-0000-0000-000000000000"
}

variable "resource_group" {
  type    = string
  default = "aoai-emulator"
}

variable "training_account" {
  description = "The account that trains (and serves the first deployment)."
  type        = string
  default     = "aoai-ncus"
}

variable "second_account" {
  description = "An account in another region that serves the model too."
  type        = string
  default     = "aoai-swc"
}

variable "base_model" {
  type    = string
  default = "gpt-4o-mini-2024-07-18"
}

provider "aoai" {
  poll_interval = 5 # seconds between status polls while a job trains
}

locals {
  accounts = "/subscriptions/${var.subscription_id}/resourceGroups/${var.resource_group}/providers/Microsoft.CognitiveServices/accounts"
  training = { resource_id = "${local.accounts}/${var.training_account}" }
  second   = { resource_id = "${local.accounts}/${var.second_account}" }
}

resource "aoai_finetune_training_file" "train" {
  account = local.training
  path    = "${path.module}/data/train.jsonl"
  model   = var.base_model
}

resource "aoai_finetune_fine_tuning_job" "support_bot" {
  account              = local.training
  base_model           = var.base_model
  training_file        = aoai_finetune_training_file.train.file_id
  training_file_sha256 = aoai_finetune_training_file.train.content_sha256 # same data re-uploaded: no new run
  training_file_stats  = aoai_finetune_training_file.train.content_stats  # the plan prices the run from them
  hyperparameters      = { n_epochs = 3 }
  suffix               = "quickstart"
  seed                 = 42
}

resource "aoai_finetune_model_deployment" "here" {
  account         = local.training
  model           = aoai_finetune_fine_tuning_job.support_bot.fine_tuned_model
  deployment_name = "support-bot"
  sku             = { name = "Standard", capacity = 1 }
  metrics         = aoai_finetune_fine_tuning_job.support_bot.metrics
  quality_gate    = { max_final_train_loss = 2.5 }
}

resource "aoai_finetune_model_deployment" "second_region" {
  account         = local.second
  source_account  = local.training # the model lives in the training account
  model           = aoai_finetune_fine_tuning_job.support_bot.fine_tuned_model
  deployment_name = "support-bot"
  sku             = { name = "Standard", capacity = 1 }
}

output "fine_tuned_model" {
  value = aoai_finetune_fine_tuning_job.support_bot.fine_tuned_model
}

output "training_account" {
  value = local.training.resource_id
}

output "metrics" {
  value = aoai_finetune_fine_tuning_job.support_bot.metrics
}

output "endpoints" {
  value = {
    (var.training_account) = aoai_finetune_model_deployment.here.endpoint
    (var.second_account)   = aoai_finetune_model_deployment.second_region.endpoint
  }
}
