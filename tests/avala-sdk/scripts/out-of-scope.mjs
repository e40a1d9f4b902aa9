// Every SDK method for something Annex does not have: each must fail with the SDK's own error for a clean
// 404 or 405 answer carrying a `detail` message, never a server error or a crash in the SDK.
import { scenario } from "./scenario.mjs";

const none = "00000000-0000-0000-0000-000000000000";

await scenario(async ({ client, input, step }) => {
  const { owner, datasetSlug: slug, project } = input;
  const calls = {
    "agents.list": () => client.agents.list(),
    "agents.create": () => client.agents.create({ name: "a", events: ["task.completed"], callbackUrl: "https://example.com/a" }),
    "agents.get": () => client.agents.get(none),
    "agents.update": () => client.agents.update(none, { name: "b" }),
    "agents.delete": () => client.agents.delete(none),
    "agents.listExecutions": () => client.agents.listExecutions(none),
    "agents.test": () => client.agents.test(none),
    "annotationIssues.listBySequence": () => client.annotationIssues.listBySequence(none),
    "annotationIssues.create": () => client.annotationIssues.create(none, { toolUid: none, problemUid: none }),
    "annotationIssues.update": () => client.annotationIssues.update(none, none, { priority: "low" }),
    "annotationIssues.delete": () => client.annotationIssues.delete(none, none),
    "annotationIssues.listByDataset": () => client.annotationIssues.listByDataset(owner, slug),
    "annotationIssues.getMetrics": () => client.annotationIssues.getMetrics(owner, slug),
    "annotationIssues.listTools": () => client.annotationIssues.listTools({ datasetType: "image" }),
    "autoLabelJobs.list": () => client.autoLabelJobs.list(),
    "autoLabelJobs.get": () => client.autoLabelJobs.get(none),
    "autoLabelJobs.create": () => client.autoLabelJobs.create(project),
    "autoLabelJobs.cancel": () => client.autoLabelJobs.cancel(none),
    "consensus.getSummary": () => client.consensus.getSummary(project),
    "consensus.listScores": () => client.consensus.listScores(project),
    "consensus.compute": () => client.consensus.compute(project),
    "consensus.getConfig": () => client.consensus.getConfig(project),
    "consensus.updateConfig": () => client.consensus.updateConfig(project, { iouThreshold: 0.5 }),
    "datasets.listSequences": () => client.datasets.listSequences(owner, slug),
    "datasets.getSequence": () => client.datasets.getSequence(owner, slug, none),
    "datasets.getFrame": () => client.datasets.getFrame(owner, slug, none, 0),
    "datasets.getCalibration": () => client.datasets.getCalibration(owner, slug, none),
    "datasets.getHealth": () => client.datasets.getHealth(owner, slug),
    "fleet.devices.list": () => client.fleet.devices.list(),
    "fleet.devices.register": () => client.fleet.devices.register({ name: "d" }),
    "fleet.devices.get": () => client.fleet.devices.get(none),
    "fleet.devices.update": () => client.fleet.devices.update(none, { name: "e" }),
    "fleet.devices.delete": () => client.fleet.devices.delete(none),
    "fleet.recordings.list": () => client.fleet.recordings.list(),
    "fleet.recordings.get": () => client.fleet.recordings.get(none),
    "fleet.recordings.update": () => client.fleet.recordings.update(none, { status: "archived" }),
    "fleet.recordings.delete": () => client.fleet.recordings.delete(none),
    "fleet.events.list": () => client.fleet.events.list(),
    "fleet.events.create": () => client.fleet.events.create({ recording: none, device: none, type: "marker", label: "x", timestamp: "2026-01-01T00:00:00Z" }),
    "fleet.events.createBatch": () => client.fleet.events.createBatch([{ recording: none, device: none, type: "marker", label: "x", timestamp: "2026-01-01T00:00:00Z" }]),
    "fleet.events.get": () => client.fleet.events.get(none),
    "fleet.events.delete": () => client.fleet.events.delete(none),
    "fleet.rules.list": () => client.fleet.rules.list(),
    "fleet.rules.create": () => client.fleet.rules.create({ name: "r", condition: {}, actions: [] }),
    "fleet.rules.get": () => client.fleet.rules.get(none),
    "fleet.rules.update": () => client.fleet.rules.update(none, { name: "s" }),
    "fleet.rules.delete": () => client.fleet.rules.delete(none),
    "fleet.alerts.list": () => client.fleet.alerts.list(),
    "fleet.alerts.get": () => client.fleet.alerts.get(none),
    "fleet.alerts.acknowledge": () => client.fleet.alerts.acknowledge(none),
    "fleet.alerts.resolve": () => client.fleet.alerts.resolve(none),
    "fleet.alertChannels.list": () => client.fleet.alertChannels.list(),
    "fleet.alertChannels.create": () => client.fleet.alertChannels.create({ name: "c", type: "email", config: {} }),
    "fleet.alertChannels.delete": () => client.fleet.alertChannels.delete(none),
    "fleet.alertChannels.test": () => client.fleet.alertChannels.test(none),
    "inferenceProviders.list": () => client.inferenceProviders.list(),
    "inferenceProviders.create": () => client.inferenceProviders.create({ name: "p", providerType: "http", config: {} }),
    "inferenceProviders.get": () => client.inferenceProviders.get(none),
    "inferenceProviders.update": () => client.inferenceProviders.update(none, { name: "q" }),
    "inferenceProviders.delete": () => client.inferenceProviders.delete(none),
    "inferenceProviders.test": () => client.inferenceProviders.test(none),
    "qualityTargets.list": () => client.qualityTargets.list(project),
    "qualityTargets.create": () => client.qualityTargets.create(project, { name: "t", metric: "accuracy", operator: "gte", threshold: 0.9 }),
    "qualityTargets.get": () => client.qualityTargets.get(project, none),
    "qualityTargets.update": () => client.qualityTargets.update(project, none, { threshold: 0.8 }),
    "qualityTargets.delete": () => client.qualityTargets.delete(project, none),
    "qualityTargets.evaluate": () => client.qualityTargets.evaluate(project),
    "storageConfigs.list": () => client.storageConfigs.list(),
    "storageConfigs.create": () => client.storageConfigs.create({ name: "s", provider: "aws_s3" }),
    "storageConfigs.setupInfo": () => client.storageConfigs.setupInfo(),
    "storageConfigs.test": () => client.storageConfigs.test(none),
    "storageConfigs.delete": () => client.storageConfigs.delete(none),
    "organizations.create": () => client.organizations.create({ name: "New Org" }),
    "organizations.update": () => client.organizations.update(owner, { name: "Renamed" }),
    "organizations.delete": () => client.organizations.delete(owner),
    "organizations.industryChoices": () => client.organizations.industryChoices(),
    "organizations.removeMember": () => client.organizations.removeMember(owner, none),
    "organizations.updateMemberRole": () => client.organizations.updateMemberRole(owner, none, { role: "admin" }),
    "organizations.leave": () => client.organizations.leave(owner),
    "organizations.transferOwnership": () => client.organizations.transferOwnership(owner, { newOwnerUid: none }),
    "organizations.listInvitations": () => client.organizations.listInvitations(owner),
    "organizations.createInvitation": () => client.organizations.createInvitation(owner, { email: "new@example.com" }),
    "organizations.resendInvitation": () => client.organizations.resendInvitation(owner, none),
    "organizations.cancelInvitation": () => client.organizations.cancelInvitation(owner, none),
    "organizations.listTeams": () => client.organizations.listTeams(owner),
    "organizations.createTeam": () => client.organizations.createTeam(owner, { name: "Team" }),
    "organizations.getTeam": () => client.organizations.getTeam(owner, "team"),
    "organizations.updateTeam": () => client.organizations.updateTeam(owner, "team", { name: "Other" }),
    "organizations.deleteTeam": () => client.organizations.deleteTeam(owner, "team"),
    "organizations.listTeamMembers": () => client.organizations.listTeamMembers(owner, "team"),
    "organizations.addTeamMember": () => client.organizations.addTeamMember(owner, "team", { userUid: none }),
    "organizations.removeTeamMember": () => client.organizations.removeTeamMember(owner, "team", none),
    "organizations.updateTeamMemberRole": () => client.organizations.updateTeamMemberRole(owner, "team", none, { role: "admin" }),
  };
  for (const [name, call] of Object.entries(calls)) {
    await step(name, call);
  }
  // Every method the client offers, so the test can tell a method it calls nowhere (say, from a newer SDK).
  await step("methods", () => methodsOf(client));
});

function methodsOf(target, prefix = "") {
  const names = [];
  for (const [key, value] of Object.entries(target)) {
    if (key === "http" || value === null || typeof value !== "object") continue;
    let proto = Object.getPrototypeOf(value);
    const own = new Set();
    while (proto && proto !== Object.prototype) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name !== "constructor" && typeof value[name] === "function") own.add(name);
      }
      proto = Object.getPrototypeOf(proto);
    }
    names.push(...[...own].map((name) => `${prefix}${key}.${name}`));
    names.push(...methodsOf(value, `${prefix}${key}.`));
  }
  return names.sort();
}
