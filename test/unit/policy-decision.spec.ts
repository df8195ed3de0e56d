import { anyOf, decidePolicy, denyEveryClient, explainPolicy, type ClientCertDecision, type ClientIdentity } from 'nest-mtls';
import { compileRequirements, spiffeIdOfUris } from 'nest-mtls/internal';

function who(extra: Partial<Omit<ClientIdentity, 'san'>> & { san?: Partial<ClientIdentity['san']> } = {}): ClientIdentity {
  const { san, ...rest } = extra;
  const uri = san?.uri ?? [];
  return {
    subject: 'CN=web,O=Example',
    issuer: 'CN=Issuing CA,O=Example',
    commonName: 'web',
    organizationalUnits: [],
    san: { dns: [], uri, ip: [], email: [], ...san },
    spiffeId: spiffeIdOfUris(uri),
    serialNumber: '01',
    fingerprint256: 'AA',
    validFrom: new Date(0),
    validTo: new Date(0),
    certificate: undefined as never,
    ...rest,
  };
}
const rule = (r: object) => compileRequirements([r]);
const HPS = 'spiffe://example.org/home-page-service';
const EVENTS = who({ san: { uri: ['spiffe://example.org/event-service'] } });

describe('decidePolicy: a decision with its reason', () => {
  it('an admission is one shared frozen value for every policy and identity (nothing built to admit)', () => {
    const admitted = [
      decidePolicy(rule({ spiffeId: 'spiffe://example.org/event-service' }), EVENTS),
      decidePolicy(rule({ subject: /^CN=web,/ }), who()),
      decidePolicy(anyOf(rule({ cn: 'nope' }), rule({ cn: 'web' })), who()),
      decidePolicy(() => true, who()),
    ];
    expect(admitted[0]).toEqual({ allowed: true });
    for (const d of admitted) expect(d).toBe(admitted[0]);
    expect(Object.isFrozen(admitted[0])).toBe(true);
  });

  it('a refusal names the rule, what was found and, apart from the reason, what the rule wanted', () => {
    const refused = decidePolicy(rule({ spiffeId: HPS }), EVENTS);
    expect(refused).toEqual({
      allowed: false,
      rule: 'spiffeId',
      expected: `is ${HPS}`,
      found: 'spiffe://example.org/event-service',
      reason: 'unexpected SPIFFE ID spiffe://example.org/event-service',
    });
    // The reason is what the guard logs: it never holds the policy (`mtls explain` says that, in full words).
    expect((refused as Extract<ClientCertDecision, { allowed: false }>).reason).not.toContain(HPS);
    expect(explainPolicy(rule({ spiffeId: HPS }), EVENTS).reason).toBe(`SPIFFE ID spiffe://example.org/event-service does not satisfy: SPIFFE ID is ${HPS}`);
  });

  it('a refusal is made once per identity (a client refused again on its connection costs no new words)', () => {
    const policy = rule({ spiffeId: HPS });
    expect(decidePolicy(policy, EVENTS)).toBe(decidePolicy(policy, EVENTS));
    expect(Object.isFrozen(decidePolicy(policy, EVENTS))).toBe(true);
    const other = who({ san: { uri: ['spiffe://example.org/other'] } });
    expect(decidePolicy(policy, other)).toMatchObject({ found: 'spiffe://example.org/other' });
  });

  it('a field the certificate lacks: found undefined, the reason says it is missing', () => {
    expect(decidePolicy(rule({ ou: 'payments' }), who())).toMatchObject({ allowed: false, rule: 'ou', found: undefined, reason: 'no OU in the subject' });
  });

  it('anyOf: each alternative\'s reason; allOf: the refusing part\'s own rule; deny', () => {
    const either = decidePolicy(anyOf(rule({ cn: 'api' }), rule({ spiffeId: HPS })), EVENTS);
    expect(either).toMatchObject({ rule: 'anyOf', reason: 'no alternative admits it: unexpected CN web; unexpected SPIFFE ID spiffe://example.org/event-service' });
    expect((either as { parts?: unknown[] }).parts).toHaveLength(2);
    expect(decidePolicy(rule({ cn: 'web', spiffeId: HPS }), EVENTS)).toMatchObject({ rule: 'spiffeId' });
    expect(decidePolicy(denyEveryClient, who())).toMatchObject({ rule: 'deny', reason: 'nobody is admitted (defaultPolicy deny)' });
  });

  it('a policy function of your own: false is refused by name (one refusal per function), a throw refuses, anything but true refuses', () => {
    function isAuditor(identity: ClientIdentity) {
      return identity.commonName === 'auditor';
    }
    const first = decidePolicy(isAuditor, who());
    expect(first).toMatchObject({ allowed: false, rule: 'custom', reason: 'custom policy isAuditor refused it' });
    expect(decidePolicy(isAuditor, who({ commonName: 'other' }))).toBe(first);
    const boom = (): boolean => {
      throw new Error('directory unreachable');
    };
    expect(decidePolicy(boom, who())).toMatchObject({ allowed: false, rule: 'custom', reason: 'custom policy boom threw (directory unreachable): refused' });
    // A truthy non-boolean (a refusal object returned where a boolean is tested) admits nobody.
    expect(decidePolicy((() => ({ allowed: false })) as never, who())).toMatchObject({ allowed: false, rule: 'custom' });
  });

  it('policies nest-mtls makes stay boolean predicates when called', () => {
    expect(rule({ spiffeId: HPS })(EVENTS)).toBe(false);
    expect(rule({ cn: 'web' })(who())).toBe(true);
  });
});
