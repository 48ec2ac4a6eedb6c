/**
 * Creates a customer account, or shows it if it already exists.
 *
 *   node dist/examples/create-account.js --account acme --name "Acme Ltd" --plan pro
 *
 * Creating accounts needs an admin credential, from --token or TICKETD_TOKEN.
 */
import { parseArgs } from "node:util";
import { Code, ConnectError, Plan, PlanSchema, describeError } from "../src/index.js";
import { CONNECTION_USAGE, connect, connectionOptions, tokenHint } from "./connect.js";

const USAGE = `usage: create-account --account ID --name NAME [--plan free|pro|business|education|api] [options]
  --plan PLAN        default pro
${CONNECTION_USAGE}`;

const { values } = parseArgs({
  options: {
    ...connectionOptions,
    account: { type: "string" },
    name: { type: "string" },
    plan: { type: "string", default: "pro" },
  },
});
const plan = PlanSchema.values.find((v) => v.name === `PLAN_${values.plan.toUpperCase()}`)?.number as Plan | undefined;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.account || !values.name || !plan) {
  console.error(USAGE);
  process.exit(64);
}

const { tickets } = connect(values);
try {
  const { account } = await tickets.createAccount({
    accountId: values.account,
    account: { displayName: values.name, plan },
  });
  console.log(`created ${account?.name} (${values.name}) on ${PlanSchema.value[plan]?.name}`);
} catch (err) {
  if (ConnectError.from(err).code !== Code.AlreadyExists) {
    const { code, message } = describeError(err);
    console.error(`error: ${Code[code]}: ${message}`);
    const hint = tokenHint(code);
    if (hint) console.error(hint);
    process.exit(1);
  }
  const { account } = await tickets.getAccount({ name: `accounts/${values.account}` });
  console.log(`${account?.name} already exists (${account?.displayName}) on ${PlanSchema.value[account?.plan ?? 0]?.name}`);
}
