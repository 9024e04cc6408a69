// Quickstart in TypeScript: upload training data, fine-tune gpt-4o-mini, deploy the model.
//
//     pulumi config set account /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>
//     pulumi up
import * as pulumi from "@pulumi/pulumi";
import * as aoai from "@pulumi/aoai-finetune";

const config = new pulumi.Config();
const account = { resourceId: config.require("account") };
const baseModel = config.get("baseModel") ?? "gpt-4o-mini-2024-07-18";

const training = new aoai.TrainingFile("training-data", {
    account,
    path: "data/train.jsonl", // relative to this program's directory
    model: baseModel,
});

const job = new aoai.FineTuningJob("support-bot", {
    account,
    baseModel,
    trainingFile: training.fileId,
    trainingFileSha256: training.sha256, // the same data uploaded again updates the job instead of retraining
    hyperparameters: { n_epochs: 3 },
    suffix: "quickstart",
    seed: 42,
});

const deployment = new aoai.ModelDeployment("support-bot", {
    account,
    model: job.fineTunedModel.apply(model => model ?? ""),
    deploymentName: "support-bot",
    sku: { name: "Standard", capacity: 1 },
});

export const fineTunedModel = job.fineTunedModel;
export const metrics = job.metrics;
export const deploymentName = deployment.deploymentName;
export const endpoint = deployment.endpoint;
