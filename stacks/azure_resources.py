"""What surrounds fine-tuning on real Azure, created with pulumi-azure-native (``azure:`` in config):
the resource group, an Azure OpenAI account per configured account without an ``id``, and the
"Cognitive Services OpenAI Contributor" role for the principal that runs the pipeline."""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure_native

from config import Pipeline

# Built-in role "Cognitive Services OpenAI Contributor" (fine-tuning needs it on the account).
OPENAI_CONTRIBUTOR = "a001fd3d-188f-4b5d-821b-7da978bf7442"

#: The role assignments made here: the files and the job depend on them (rule A1 of docs/azure-rules.md:
#: the data plane answers 401/403 until a new assignment has propagated, which the provider waits for
#: within aoai-finetune:accessPropagationTimeout).
ASSIGNMENTS: list = []


def create_accounts(pipeline: Pipeline) -> dict[str, pulumi.Input[str]]:
    rg = azure_native.resources.ResourceGroup(
        "resource-group", resource_group_name=pipeline.resource_group, location=pipeline.azure.location)
    ids: dict[str, pulumi.Input[str]] = {}
    for key, acct in pipeline.accounts.items():
        if acct.id:
            ids[key] = acct.id
            continue
        account = azure_native.cognitiveservices.Account(
            f"account-{key}", account_name=acct.name, resource_group_name=rg.name, location=acct.region,
            kind="OpenAI", sku=azure_native.cognitiveservices.SkuArgs(name="S0"),
            properties=azure_native.cognitiveservices.AccountPropertiesArgs(
                custom_sub_domain_name=acct.name, public_network_access="Enabled"))
        ids[key] = account.id
        if pipeline.azure.principal_id:
            ASSIGNMENTS.append(azure_native.authorization.RoleAssignment(
                f"openai-contributor-{key}", principal_id=pipeline.azure.principal_id,
                role_definition_id=f"/subscriptions/{pipeline.subscription}/providers/"
                                   f"Microsoft.Authorization/roleDefinitions/{OPENAI_CONTRIBUTOR}",
                scope=account.id))
    return ids
