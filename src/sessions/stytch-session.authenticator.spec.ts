import { Logger } from '@nestjs/common';
import type { OrganizationRecord } from '../auth/principal';
import { AppError } from '../errors/app-error';
import type { OrganizationsService } from '../organizations/organizations.service';
import { StytchFixture, hideStytchBaseUrlWarning } from '../../test/support/stytch-fixture';
import { StytchSessionAuthenticator } from './stytch-session.authenticator';

/** The authenticator against the real SDK and a local JWKS, without the app around it. */
describe('StytchSessionAuthenticator', () => {
  let fixture: StytchFixture;
  let sut: StytchSessionAuthenticator;
  const mapped: Array<[string, string]> = [];
  const organizations = {
    forStytchOrganization: async (stytchId: string, slug: string): Promise<OrganizationRecord> => {
      mapped.push([stytchId, slug]);
      return { id: 'org_test', name: slug, stytchOrganizationId: stytchId, leakResponse: 'revoke', createdAt: new Date() };
    },
  } as unknown as OrganizationsService;

  beforeAll(async () => {
    Logger.overrideLogger(false); // every refusal is logged at debug; not wanted in the test output
    hideStytchBaseUrlWarning();
    fixture = await StytchFixture.start();
    sut = new StytchSessionAuthenticator(fixture.config, organizations);
  });
  afterAll(() => fixture.close());

  it('turns a valid token into a member principal', async () => {
    const principal = await sut.authenticate(
      await fixture.mint({ memberId: 'member-test-1', organizationId: 'organization-test-1', slug: 'acme', roles: ['stytch_member', 'stytch_admin'] }),
      'req_test',
    );
    expect(principal).toMatchObject({
      kind: 'member',
      requestId: 'req_test',
      memberId: 'member-test-1',
      organizationSlug: 'acme',
      roles: ['stytch_member', 'stytch_admin'],
      organization: { id: 'org_test', stytchOrganizationId: 'organization-test-1' },
    });
    expect(principal.session.id).toMatch(/^member-session-test-/);
    expect(new Date(principal.session.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(mapped).toContainEqual(['organization-test-1', 'acme']);
  });

  it('refuses every bad token with INVALID_SESSION, never another error', async () => {
    const cases = await fixture.badTokens();
    const outcomes = await Promise.all(cases.map(([name, token]) => sut.authenticate(token, 'req_test').then(() => [name, 'accepted'], (error) => [name, outcomeOf(error)])));
    expect(outcomes).toEqual(cases.map(([name]) => [name, 'INVALID_SESSION: The session token is invalid or expired. Sign in again.']));
  });

  it('refuses every token when the JWKS cannot be reached', async () => {
    const gone = await StytchFixture.start();
    const [token, config] = [await gone.mint(), gone.config];
    await gone.close();
    const offline = new StytchSessionAuthenticator(config, organizations);
    await expect(offline.authenticate(token, 'req_test')).rejects.toMatchObject({ code: 'INVALID_SESSION' });
  });
});

function outcomeOf(error: unknown): string {
  return error instanceof AppError ? `${error.code}: ${error.message}` : String(error);
}
