/**
 * Routes only a delegate (the data gateway, named in the policy's `delegates`) calls:
 * checking a bearer token one of its peers presented, and recording in the service's audit
 * chain what it refused or served for its peers (docs/keyservice.md "Delegates").
 */
import type { FastifyInstance } from "fastify";
import { ServiceError } from "../errors.js";
import { type DelegateRecord, delegateRecordEvent } from "../store/decision.js";
import { type Service, permit } from "../service.js";
import { verifyToken } from "../tokens.js";
import { requireCertificate } from "../delegation.js";
import { route } from "./register.js";

export function delegateRoutes(app: FastifyInstance, svc: Service): void {
  route<{ token: string }>(app, "verifyToken", async (req) => {
    requireCertificate(req);
    const claims = await verifyToken(svc.tokens, req.body.token, null, svc.now(), svc.certificateRevoked);
    // the record (token.verify for the subject, the delegate under @delegate) is written before
    // the answer: a delegate learns only about identities it may act for
    await permit(svc, req, { onBehalfOf: { identity: claims.sub, auth: "token" } }, async () => undefined);
    return { identity: claims.sub, expiresAt: new Date(claims.exp).toISOString(), ...(claims.ops ? { operations: claims.ops } : {}) };
  });

  route<{ records: DelegateRecord[] }>(app, "appendRecords", async (req) => {
    requireCertificate(req);
    // the gate decided (and a refusal was recorded): the caller is a delegate. Its records may be
    // about any peer (a denial is often of a peer it does not serve), and every one is recorded
    // with the delegate as its principal: a delegate reports, it never writes as someone else
    const events = req.body.records.map((r) => delegateRecordEvent(req.principal, r));
    const records = svc.store.together(() => events.map((e) => svc.store.appendEvent(e)));
    const settled = await Promise.allSettled(records);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    if (settled.length !== events.length) throw new ServiceError("UNAVAILABLE", "not every record was written");
    return { recorded: events.length };
  });
}
