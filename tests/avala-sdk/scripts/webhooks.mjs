// webhooks.create, list, get, update (is_active), test, delete; webhookDeliveries.list, get after an export
// completes.
import { scenario, until } from "./scenario.mjs";

await scenario(async ({ client, input, step }) => {
  const hook = await step("create", () =>
    client.webhooks.create({ targetUrl: input.targetUrl, events: ["export.completed"] }),
  );
  await step("list", () => client.webhooks.list());
  if (!hook?.uid) return;
  await step("get", () => client.webhooks.get(hook.uid));
  await step("test", () => client.webhooks.test(hook.uid));
  const created = await step("export", () => client.exports.create({ dataset: input.dataset }));
  if (created?.uid) {
    await step("deliveries", () =>
      until(async () => {
        const page = await client.webhookDeliveries.list();
        return page.items.some((d) => d.eventType === "export.completed") ? page : null;
      }),
    );
    const page = await client.webhookDeliveries.list().catch(() => null);
    const delivery = page?.items?.find((d) => d.eventType === "export.completed") ?? page?.items?.[0];
    if (delivery?.uid) {
      await step("delivery", () => client.webhookDeliveries.get(delivery.uid));
    }
  }
  await step("deactivate", () => client.webhooks.update(hook.uid, { isActive: false }));
  await step("getDeactivated", () => client.webhooks.get(hook.uid));
  await step("delete", () => client.webhooks.delete(hook.uid));
  await step("getDeleted", () => client.webhooks.get(hook.uid));
});
