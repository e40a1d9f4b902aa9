// exports.create({ dataset }) and ({ project }), exports.list, exports.get; waits for the dataset export to finish.
import { scenario, until } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const byDataset = await step("createForDataset", () => client.exports.create({ dataset: input.dataset }));
  await step("createForProject", () => client.exports.create({ project: input.project }));
  await step("list", () => client.exports.list());
  await step("listFirstPage", () => client.exports.list({ limit: 1 }));
  const first = await step("listFirstPageAgain", () => client.exports.list({ limit: 1 }));
  if (first?.nextCursor) {
    await step("listSecondPage", () => client.exports.list({ limit: 1, cursor: first.nextCursor }));
  }
  if (byDataset?.uid) {
    await step("get", () => client.exports.get(byDataset.uid));
    await step("finished", () =>
      until(async () => {
        const current = await client.exports.get(byDataset.uid);
        return ["exported", "failed"].includes(current.status) ? current : null;
      }),
    );
  }
  await step("getMissing", () => client.exports.get("00000000-0000-0000-0000-000000000000"));
});
