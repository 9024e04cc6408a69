# Promotion with Terraform's own means: this configuration trains nothing. It reads the model the
# quickstart (one directory up) trained, from that configuration's state, and deploys it in another
# account. Promoting is then a state read (or, pinned, the one line `model = "<model id>"`), never a
# second training run.
#
#   (cd .. && tofu apply) && tofu apply

terraform {
  required_providers {
    aoai = {
      source = "terraform.local/aoai-finetune/aoai"
    }
  }
}

variable "state_path" {
  description = "The quickstart's state (a remote backend's settings in a team setup)."
  type        = string
  default     = "../terraform.tfstate"
}

variable "target_account" {
  description = "The ARM id of the account that serves the promoted model."
  type        = string
  default     = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/aoai-emulator/providers/Microsoft.CognitiveServices/accounts/aoai-eus2"
}

variable "pinned_model" {
  description = "A reviewed model id to deploy instead of the quickstart's latest (optional)."
  type        = string
  default     = null
}

provider "aoai" {}

data "terraform_remote_state" "dev" {
  backend = "local"
  config = {
    path = var.state_path
  }
}

resource "aoai_finetune_model_deployment" "prod" {
  account         = { resource_id = var.target_account }
  source_account  = { resource_id = data.terraform_remote_state.dev.outputs.training_account }
  model           = coalesce(var.pinned_model, data.terraform_remote_state.dev.outputs.fine_tuned_model)
  deployment_name = "support-bot-prod"
  sku             = { name = "GlobalStandard", capacity = 2 } # offered from every region
  metrics         = data.terraform_remote_state.dev.outputs.metrics
  quality_gate    = { max_final_train_loss = 2.5 } # a model that misses it is not promoted
}

output "model" {
  value = aoai_finetune_model_deployment.prod.model
}
