/** Tokens, policy proposals and approvals, audit reads, service info. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Policy, canApprove, validateProposal } from "../policy/index.js";
import { ServiceError } from "../errors.js";
import { type Service, permit } from "../service.js";
import { mintToken } from "../tokens.js";
import { route } from "./register.js";
import { peerOf } from "../../pki/mtls/gate.js";

export function adminRoutes(app: FastifyInstance, svc: Service): void {
  route(app, "info", async (req) => ({ keyringId: svc.keyringId, store: svc.store.kind, principal: req.principal, api: "v1" }));

  route<{ ttlSeconds?: number; operations?: string[] }>(app, "mintToken", async (req) => {
    const ttl = Math.min(req.body.ttlSeconds ?? svc.tokenTtlSeconds, svc.tokenTtlSeconds);
    // the token leaves only after its record (token.mint, with the rule) committed
    const { token, claims } = await permit(svc, req, {}, () =>
      mintToken(svc.tokens, req.principal, ttl, svc.now(), { ...(req.body.operations ? { ops: req.body.operations } : {}), ...certSerialOf(req) }),
    );
    return { token, expiresAt: new Date(claims.exp).toISOString(), identity: claims.sub };
  });

  route<{ policy: string }>(app, "proposePolicy", async (req, reply) => {
    // the decision: may propose (the gate already refused whoever never may, unparsed), then
    // the text is parsed inside it: a policy admin's malformed proposal is a PolicyError
    // (INVALID_ARGUMENT with line:col); a parsed one must grant the proposer nothing new
    const decider = (active: Policy) => validateProposal(active, req.body.policy, req.principal, new Date(svc.now()));
    const id = await permit(svc, req, {}, (who) => svc.store.proposePolicy(req.body.policy, who), { decider });
    return reply.code(201).send({ id, state: "proposed" });
  });
  route<{ id: string }>(app, "approvePolicy", async (req) => {
    const pending = (await svc.store.listPolicies()).find((p) => p.id === req.body.id && p.state === "proposed");
    if (!pending) {
      // only someone who may approve at all learns that the id names nothing (recorded either way:
      // a denial, or the allowed decision with NOT_FOUND, as an approval that never started)
      await permit(svc, req, { objectPath: req.body.id }, () => Promise.reject(new ServiceError("NOT_FOUND", "no pending proposal with that id")));
    }
    const proposal = pending as NonNullable<typeof pending>;
    // a second, different policy administrator, who grants themselves nothing by approving
    const decider = (active: Policy) => canApprove({ proposer: proposal.proposer, policyText: proposal.yaml }, req.principal, active, new Date(svc.now()));
    const record = await permit(svc, req, { objectPath: req.body.id }, (who) => svc.store.approvePolicy(req.body.id, who), { decider }).catch(
      async (e: unknown) => {
        // another replica approved it between our read and our write: the store says INVALID_ARGUMENT, the honest answer is NOT_FOUND
        if (!(e instanceof Error) || (e as { code?: unknown }).code !== "INVALID_ARGUMENT") throw e;
        const still = (await svc.store.listPolicies()).some((p) => p.id === req.body.id && p.state === "proposed");
        throw still ? e : new ServiceError("NOT_FOUND", "no pending proposal with that id (approved or superseded meanwhile)");
      },
    );
    await svc.authz.refresh(true);
    return { id: record.id, state: record.state, proposer: record.proposer, approver: record.approver };
  });
  route(app, "showPolicy", async (req) => {
    const all = await permit(svc, req, {}, () => svc.store.listPolicies());
    return { active: all.find((p) => p.state === "active") ?? null, proposals: all.filter((p) => p.state === "proposed").map(({ yaml: _y, ...rest }) => rest) };
  });

  // a read of the audit log is recorded before it reads, so it shows up in what it reads
  const recordRead = (req: FastifyRequest) => permit(svc, req, {}, async () => undefined);
  route(app, "listAudit", async (req) => {
    await recordRead(req);
    const q = req.query as { limit?: string; since?: string };
    return { records: await svc.store.listAudit({ ...(q.limit ? { limit: Number(q.limit) } : {}), ...(q.since ? { sinceMs: Number(q.since) } : {}) }) };
  });
  route(app, "verifyAudit", async (req) => {
    await recordRead(req);
    return svc.store.verifyAudit();
  });
  route(app, "auditAnchor", async (req) => {
    await recordRead(req);
    return svc.store.auditAnchor();
  });
  route<{ anchors: string[] }>(app, "verifyAuditAnchors", async (req) => {
    await recordRead(req);
    return svc.store.verifyAuditAnchored(req.body.anchors);
  });
}

/** The certificate a token is minted over (tokens cannot mint, so a minting request always has one). */
function certSerialOf(req: FastifyRequest): { certSerial?: string } {
  const peer = peerOf(req.raw);
  return peer ? { certSerial: peer.serialNumber } : {};
}
