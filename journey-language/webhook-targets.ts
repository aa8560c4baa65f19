import { webhookTargetRefusal } from './addresses';
import { JourneyDefinitionSchema } from './definition';

/**
 * The definition schema as publishing applies it: JourneyDefinitionSchema plus a refinement that
 * refuses `notify` steps whose URL names an internal host literally (`127.0.0.1`, `[::1]`,
 * `0x7f000001`, `localhost`, `169.254.169.254`, …), at `steps[i].url`, unless the operator's
 * allow-list (WEBHOOK_ALLOWED_HOSTS) names it.
 *
 * Why a refinement layered on top, not one inside JourneyDefinitionSchema: which hosts are
 * allowed is the deployment's policy, not the language's, and the static schema must accept every
 * definition that was ever published, because it also reads stored versions (the version route
 * answers through it) and test runs (which never call webhooks). So the language stays one static
 * schema, and publishing, the only place a URL becomes a live target, checks it with the allow-list
 * of the process that publishes. DNS names are checked again, once resolved, when the worker
 * connects (services/webhooks/transport.ts).
 */
export function publishableDefinitionSchema(allowedHosts: readonly string[]) {
  return JourneyDefinitionSchema.superRefine((definition, ctx) => {
    // Read as raw input: this runs even when another part of the definition is malformed.
    const steps = (definition as { steps?: unknown }).steps;
    if (!Array.isArray(steps)) return;
    steps.forEach((step: unknown, i) => {
      const { type, url } = (step ?? {}) as { type?: unknown; url?: unknown };
      if (type !== 'notify' || typeof url !== 'string') return;
      const refusal = webhookTargetRefusal(url, allowedHosts);
      if (refusal) ctx.addIssue({ code: 'custom', path: ['steps', i, 'url'], message: refusal });
    });
  }, { when: () => true });
}
