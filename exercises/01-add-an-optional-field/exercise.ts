// Exercise 1: add an optional field to a request and to a response, the MINOR change. The restaurant says who
// accepted a ticket (AcceptTicketRequest.accepted_by), Kitchen keeps it, and the Ticket answers it. A client
// built from the release, which knows nothing of it, must still accept and read tickets.
import { create, type DescField, type DescMessage, type Message, ScalarType } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import {
  AcceptTicketRequestSchema,
  KitchenService,
  type Ticket,
  TicketSchema,
  TicketState,
} from "@ftgo/gen/ftgo/kitchen/v1/kitchen_pb.js";
import { createGrpcClient } from "@ftgo/platform";
import { kitchenWithTickets } from "../../scripts/lib/exercises/kitchen.js";
import { releasedRegistry } from "../../scripts/lib/exercises/released.js";
import type { Exercise, Verdict } from "../../scripts/lib/exercises/types.js";

const FIELD = "accepted_by";
const WHO = "Linh";

const stringField = (desc: DescMessage): DescField | undefined =>
  desc.fields.find((f) => f.name === FIELD && f.fieldKind === "scalar" && f.scalar === ScalarType.STRING);

const exercise: Exercise = {
  number: 1,
  slug: "add-an-optional-field",
  title: "Add an optional field to a request and a response",
  teaches: "a new field is MINOR: buf breaking passes, old clients never send it and skip it in answers",
  touches: ["services/kitchen/src"],
  checks: [
    {
      name: `AcceptTicketRequest and Ticket both have \`string ${FIELD}\``,
      async run() {
        const missing = [AcceptTicketRequestSchema, TicketSchema].filter((desc) => !stringField(desc));
        if (missing.length === 0) return { ok: true };
        return {
          ok: false,
          missing: `${missing.map((d) => d.name).join(" and ")} ha${missing.length > 1 ? "ve" : "s"} no field \`${FIELD}\` yet: add \`string ${FIELD} = <next free number> [(buf.validate.field).string.max_len = 200];\` to each (kitchen.proto)`,
        };
      },
    },
    {
      name: "buf breaking (FILE rules, the gate's) against the release passes",
      async run(ctx) {
        const result = await ctx.breakingAgainstRelease();
        if (result.code === 0) return { ok: true };
        const said = result.findings.map((f) => `${f.rule}: ${f.message}`).join("\n");
        return {
          ok: false,
          missing: `buf breaking --against ${ctx.latestReleaseVersion} says:\n${said}\nadd fields; change nothing that is there`,
        };
      },
    },
    {
      name: "generated code is up to date",
      run: (ctx) => ctx.generatedUpToDate(),
    },
    {
      name: `over gRPC: an old client still accepts tickets; ${FIELD} sent by a new one reaches Kitchen's database and comes back`,
      async run(ctx): Promise<Verdict> {
        const requestField = stringField(AcceptTicketRequestSchema);
        const ticketField = stringField(TicketSchema);
        if (!requestField || !ticketField) return { ok: false, missing: `add the field \`${FIELD}\` first` };
        const kitchen = await kitchenWithTickets(ctx.scratch, ["o-old-client", "o-new-client"]);
        let answered: string;
        try {
          const released = releasedRegistry(ctx.latestRelease).getService(KitchenService.typeName);
          if (!released) return { ok: false, missing: `the release has no ${KitchenService.typeName}` };
          const old = createGrpcClient(released, kitchen.transport) as unknown as Record<
            string,
            (req: Record<string, unknown>) => Promise<{ ticket?: Message }>
          >;
          const oldAnswer = (await old.acceptTicket?.({ orderId: "o-old-client" }))?.ticket as Ticket | undefined;
          if (oldAnswer?.state !== TicketState.ACCEPTED) {
            return {
              ok: false,
              missing: "a client built from the release could not accept its ticket: the change broke it",
            };
          }
          const client = createGrpcClient(KitchenService, kitchen.transport);
          const request = create(AcceptTicketRequestSchema, { orderId: "o-new-client" });
          reflect(AcceptTicketRequestSchema, request).set(requestField, WHO);
          await client.acceptTicket(request);
          const { ticket } = await client.getTicket({ orderId: "o-new-client" });
          answered = String(ticket && reflect(TicketSchema, ticket).get(ticketField));
        } finally {
          await kitchen.stop().catch(() => undefined);
        }
        if (answered !== WHO) {
          return {
            ok: false,
            missing: `GetTicket answered ${FIELD} "${answered}" after AcceptTicket sent "${WHO}": Kitchen must keep it (services/kitchen/src: a migration adding a column to tickets, the step writing it, toTicket reading it)`,
          };
        }
        return { ok: true, detail: `old client: ACCEPTED; new client: ${FIELD} "${WHO}" stored and answered` };
      },
    },
  ],
};

export default exercise;
