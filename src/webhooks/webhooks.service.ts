import { Inject, Injectable } from '@nestjs/common';
import type { WebhookEndpoint } from '../generated/prisma/client';
import { AuditService } from '../audit/audit.service';
import { Principal, actorOf } from '../auth/principal';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { idPattern, newId } from '../database/ids';
import { AppError } from '../errors/app-error';
import { ListQueryDto, Page, toPage } from '../pagination/list-query.dto';
import { WebhookWorker } from './delivery/webhook-worker';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { DEFAULT_SECRET_GRACE_SECONDS } from './dto/rotate-webhook-secret.dto';
import { TargetRefused, resolveTarget, urlProblem } from './target-url';
import { CreatedWebhookView, WebhookAttemptView, WebhookView, presentAttempt, presentWebhook } from './webhook.presenter';
import { WebhookSecrets } from './webhook-secrets';
import { generateSigningSecret } from './webhook-signer';
import { WebhooksRepository } from './webhooks.repository';

const ENDPOINT_ID = idPattern('whk');
/** Endpoints per organization: each one multiplies the deliveries of every event. */
export const MAX_ENDPOINTS_PER_ORGANIZATION = 20;
const RESOLVE_TIMEOUT_MS = 5_000;

/** Registering, reading, rotating and removing webhook endpoints — always within the caller's organization. */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly audit: AuditService,
    private readonly worker: WebhookWorker,
  ) {}

  async create(principal: Principal, dto: CreateWebhookDto): Promise<CreatedWebhookView> {
    const box = this.secrets.require();
    await this.assertReachableTarget(dto.url);
    const organizationId = principal.organization.id;
    const id = newId('whk');
    const secret = generateSigningSecret();
    const endpoint = await this.repository.transaction(async (tx) => {
      await this.repository.lockOrganization(tx, organizationId);
      if ((await this.repository.count(tx, organizationId)) >= MAX_ENDPOINTS_PER_ORGANIZATION) {
        throw new AppError('CONFLICT', `An organization may register at most ${MAX_ENDPOINTS_PER_ORGANIZATION} webhook endpoints. Delete one first.`);
      }
      const created = await this.repository.create(tx, {
        id,
        organizationId,
        url: dto.url,
        eventTypes: dto.event_types,
        secretCiphertext: box.seal(secret, id),
      });
      await this.audit.record(tx, {
        organizationId,
        type: 'webhook.created',
        actor: actorOf(principal),
        target: { type: 'webhook_endpoint', id },
        data: { url: dto.url, event_types: dto.event_types },
      });
      return created;
    });
    this.worker.wake();
    return { ...presentWebhook(endpoint), secret };
  }

  async list(principal: Principal, query: ListQueryDto): Promise<Page<WebhookView>> {
    this.secrets.require();
    const rows = await this.repository.list(principal.organization.id, query);
    return toPage(rows, query.limit ?? 20, presentWebhook);
  }

  async get(principal: Principal, id: string): Promise<WebhookView> {
    this.secrets.require();
    return presentWebhook(await this.find(principal.organization.id, id));
  }

  async attempts(principal: Principal, id: string, query: ListQueryDto): Promise<Page<WebhookAttemptView>> {
    this.secrets.require();
    const endpoint = await this.find(principal.organization.id, id);
    const rows = await this.repository.listAttempts(endpoint.organizationId, endpoint.id, query);
    return toPage(rows, query.limit ?? 20, presentAttempt);
  }

  /** Deletes the endpoint and, with it, its undelivered deliveries and attempt history. */
  async remove(principal: Principal, id: string): Promise<void> {
    this.secrets.require();
    const organizationId = principal.organization.id;
    if (!ENDPOINT_ID.test(id)) throw AppError.notFound('Webhook endpoint');
    await this.repository.transaction(async (tx) => {
      const endpoint = await this.repository.findInOrganization(organizationId, id, tx);
      if (!endpoint || !(await this.repository.delete(tx, organizationId, id))) throw AppError.notFound('Webhook endpoint');
      await this.audit.record(tx, {
        organizationId,
        type: 'webhook.deleted',
        actor: actorOf(principal),
        target: { type: 'webhook_endpoint', id },
        data: { url: endpoint.url },
      });
    });
  }

  /** A new secret; the old one keeps signing beside it for the grace period, so receivers can switch without losing messages. */
  async rotateSecret(principal: Principal, id: string, graceSeconds = DEFAULT_SECRET_GRACE_SECONDS): Promise<CreatedWebhookView> {
    const box = this.secrets.require();
    const organizationId = principal.organization.id;
    if (!ENDPOINT_ID.test(id)) throw AppError.notFound('Webhook endpoint');
    const secret = generateSigningSecret();
    const endpoint = await this.repository.transaction(async (tx) => {
      const current = await this.repository.findInOrganization(organizationId, id, tx);
      if (!current) throw AppError.notFound('Webhook endpoint');
      const updated = await this.repository.update(tx, organizationId, id, {
        secretCiphertext: box.seal(secret, id),
        previousSecretCiphertext: graceSeconds > 0 ? current.secretCiphertext : null,
        previousSecretExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null,
      });
      if (!updated) throw AppError.notFound('Webhook endpoint');
      await this.audit.record(tx, {
        organizationId,
        type: 'webhook.secret_rotated',
        actor: actorOf(principal),
        target: { type: 'webhook_endpoint', id },
        data: { grace_period_seconds: graceSeconds },
      });
      return updated;
    });
    return { ...presentWebhook(endpoint), secret };
  }

  /** Turns a disabled endpoint back on, its failure count cleared; events from now on reach it. */
  async enable(principal: Principal, id: string): Promise<WebhookView> {
    this.secrets.require();
    const organizationId = principal.organization.id;
    if (!ENDPOINT_ID.test(id)) throw AppError.notFound('Webhook endpoint');
    const endpoint = await this.repository.transaction(async (tx) => {
      const current = await this.repository.findInOrganization(organizationId, id, tx);
      if (!current) throw AppError.notFound('Webhook endpoint');
      if (current.enabled) return current;
      const updated = (await this.repository.update(tx, organizationId, id, { enabled: true, disabledAt: null, consecutiveFailures: 0 }))!;
      await this.audit.record(tx, { organizationId, type: 'webhook.enabled', actor: actorOf(principal), target: { type: 'webhook_endpoint', id } });
      return updated;
    });
    this.worker.wake();
    return presentWebhook(endpoint);
  }

  private async find(organizationId: string, id: string): Promise<WebhookEndpoint> {
    // A malformed id cannot exist: answered like any unknown id, without a query.
    const endpoint = ENDPOINT_ID.test(id) ? await this.repository.findInOrganization(organizationId, id) : null;
    if (!endpoint) throw AppError.notFound('Webhook endpoint');
    return endpoint;
  }

  /** The URL's form, then (unless private targets are allowed) every address its host resolves to. */
  private async assertReachableTarget(url: string): Promise<void> {
    const { allowPrivateTargets } = this.config.webhooks;
    const problem = urlProblem(url, allowPrivateTargets);
    if (problem) throw AppError.validation('The webhook URL is not accepted.', [{ field: 'url', message: problem }]);
    if (allowPrivateTargets) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TargetRefused('dns_failed', 'the host name did not resolve in time')), RESOLVE_TIMEOUT_MS);
    });
    try {
      await Promise.race([resolveTarget(new URL(url).hostname, false), late]);
    } catch (error) {
      if (!(error instanceof TargetRefused)) throw error;
      throw AppError.validation('The webhook URL is not accepted.', [{ field: 'url', message: error.message }]);
    } finally {
      clearTimeout(timer);
    }
  }
}
