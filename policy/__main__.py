"""The aoai-finetune policy pack: guard rails a platform team asks for (see aoai_finetune_policy.py).

    pulumi preview --policy-pack policy --policy-pack-config policy/config.example.json
"""

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationPolicy

from aoai_finetune_policy import RULES, plain, resource_props


def _validator(rule):
    def validate(args, report_violation):
        props = resource_props(args.resource_type, args.props)
        if props is None:
            return
        for message in rule(props, plain(args.get_config() or {})):
            report_violation(message, None)

    return validate


PolicyPack(
    name="aoai-finetune-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guard rails for Azure OpenAI fine-tuning with pulumi-aoai-finetune: allowed base models and "
                "regions, a required model suffix, a maximum deployment capacity, and no deployment of a "
                "model that failed its quality gate.",
    policies=[
        ResourceValidationPolicy(
            name=name,
            description=description,
            validate=_validator(rule),
            config_schema=PolicyConfigSchema(properties=schema),
        )
        for name, (description, rule, schema) in RULES.items()
    ],
)
