import { Injectable, Logger } from '@nestjs/common';
import type { ApiKey, Prisma } from '../generated/prisma/client';
import { hashKey } from '../api-keys/key-format';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../auth/principal';
import { AppError } from '../errors/app-error';
import { AuthFailureBrake } from '../rate-limiting/auth-failure-brake';
import { FoundToken, readReport } from './github-report';
import { GithubPublicKeys } from './github-public-keys';
import { ReportSignature, isSignedBy } from './github-signature';
import { SecretScanningRepository } from './secret-scanning.repository';
import { LeakAction, labelOf, lookupHash, plannedAction, standingOf } from './token-classification';
import type { TokenLabelView } from './dto/token-label.view';

/** A report as the controller hands it over: who sent it, its signature, its exact bytes and their parse. */
export interface GithubReport {
  ip: string;
  requestId: string;
  signature: ReportSignature | null;
  rawBody: Buffer | undefined;
  body: unknown;
}

export function invalidSignature(): AppError {
  return new AppError(
    'UNAUTHORIZED',
    'A valid GitHub signature is required: Github-Public-Key-Identifier and Github-Public-Key-Signature over the exact body.',
  );
}

/**
 * GitHub's secret-scanning partner reports: verified against GitHub's published keys, then each
 * found token is labelled, and a key of ours is revoked (or, if its organization chose `notify`,
 * only reported) with an `api_key.leaked` audit event — once per key and URL, however often the
 * report is sent.
 */
@Injectable()
export class SecretScanningService {
  private readonly logger = new Logger(SecretScanningService.name);

  constructor(
    private readonly keys: GithubPublicKeys,
    private readonly brake: AuthFailureBrake,
    private readonly repository: SecretScanningRepository,
    private readonly apiKeys: ApiKeysService,
    private readonly audit: AuditService,
  ) {}

  /** Refuses a request without both signature headers; counted like any failed authentication. */
  async refuseUnsigned(ip: string, requestId: string): Promise<never> {
    return this.brake.fail(ip, requestId, invalidSignature());
  }

  async handleGithubReport(report: GithubReport): Promise<TokenLabelView[]> {
    await this.verify(report);
    const tokens = readReport(report.body);
    const hashes = [...new Set(tokens.map((found) => lookupHash(found.token)).filter((hash) => hash !== null))];
    const known = new Map((hashes.length > 0 ? await this.repository.keysByHash(hashes) : []).map((key) => [key.keyHash, key]));
    const actor: Actor = { type: 'system', id: 'github-secret-scanning', requestId: report.requestId };
    const answers: TokenLabelView[] = [];
    // One after the other: the same key twice in one report is handled once, like a replay.
    for (const found of tokens) {
      const hash = lookupHash(found.token);
      const key = hash === null ? undefined : known.get(hash);
      if (key) await this.respond(key, found, actor);
      answers.push({ token_hash: hashKey(found.token), token_type: found.type, label: labelOf(key) });
    }
    return answers;
  }

  private async verify(report: GithubReport): Promise<void> {
    const { signature, rawBody } = report;
    if (!signature || !rawBody) return this.brake.fail(report.ip, report.requestId, invalidSignature());
    const lookup = await this.keys.lookup(signature.identifier);
    if ('problem' in lookup && lookup.problem === 'unavailable') {
      // GitHub retries a report that is not answered 2xx: better later than accepted unverified.
      throw new AppError('SERVICE_UNAVAILABLE', "GitHub's signing keys cannot be obtained right now; retry later.");
    }
    if (!('key' in lookup) || !isSignedBy(lookup.key, rawBody, signature.signature)) {
      this.logger.warn({ request_id: report.requestId }, 'A secret-scanning report with an invalid signature was refused');
      return this.brake.fail(report.ip, report.requestId, invalidSignature());
    }
  }

  private async respond(key: ApiKey, found: FoundToken, actor: Actor): Promise<void> {
    const urlHash = hashKey(found.url);
    if (await this.repository.alreadyReported(key.id, urlHash)) return;
    const plan = plannedAction(standingOf(key, new Date()), await this.repository.leakResponseOf(key.organizationId));
    if (plan === 'revoke') {
      // Store, then PostgreSQL, then the event to the other instances (revokeKey's order), with
      // the leak's record in the revocation's own transaction.
      await this.apiKeys.revokeKey(key.organizationId, key.id, actor, undefined, (tx, revokedNow) =>
        this.record(tx, key, found, urlHash, revokedNow ? 'revoked' : 'already_revoked', actor),
      );
    } else {
      await this.repository.transaction((tx) => this.record(tx, key, found, urlHash, plan, actor));
    }
    this.logger.warn({ request_id: actor.requestId }, `API key ${key.id} was found in public by GitHub secret scanning (${plan})`);
  }

  private async record(tx: Prisma.TransactionClient, key: ApiKey, found: FoundToken, urlHash: string, action: LeakAction, actor: Actor) {
    if (!(await this.repository.recordReport(tx, key, urlHash))) return;
    await this.audit.record(tx, {
      organizationId: key.organizationId,
      type: 'api_key.leaked',
      actor,
      target: { type: 'api_key', id: key.id },
      data: { url: found.url, source: found.source, type: found.type, action },
    });
  }
}
