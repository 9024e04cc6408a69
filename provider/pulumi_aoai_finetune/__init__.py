"""Pulumi resources for Azure OpenAI fine-tuning."""
