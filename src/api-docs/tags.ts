/**
 * The document's tags, each with the description the reference shows above its operations.
 * Controllers name theirs from here, so no operation carries a tag the document does not declare.
 */
export const API_TAGS = {
  health: { name: 'Health', description: 'Liveness and readiness probes for load balancers and orchestrators. No credential needed.' },
  apiKeys: {
    name: 'API keys',
    description:
      'Create, list, rotate and revoke the API keys of your organization. Any API key, or a dashboard member with a ' +
      'key-manager role, may change keys; every member may list and read them. Every change is an audit event.',
  },
  webhooks: {
    name: 'Webhooks',
    description:
      'HTTPS endpoints that receive your organization\'s key and tier events, signed as Standard Webhooks define, at least once. ' +
      'Only API keys and dashboard members with a key-manager role may use these routes.',
  },
  session: { name: 'Session', description: 'The dashboard member behind a Stytch session JWT.' },
  organization: { name: 'Organization', description: 'The organization the credential acts for, with its tier.' },
  secretScanning: {
    name: 'Secret scanning',
    description: 'Reports of leaked API keys from GitHub secret scanning, signed by GitHub. Not called with an API key.',
  },
  datasets: { name: 'Datasets', description: 'Datasets of your organization. Available on every tier.' },
  audit: {
    name: 'Audit trail (Enterprise)',
    description: 'Every change to keys, tiers and datasets, newest first. Enterprise tier only.',
  },
  compliance: { name: 'Compliance (Enterprise)', description: 'Compliance assessments. Enterprise tier only.' },
  provenance: {
    name: 'Provenance (Enterprise)',
    description: 'Append-only provenance records of datasets and model cards. Enterprise tier only.',
  },
  modelCards: { name: 'Model cards (Enterprise)', description: 'Model cards. Enterprise tier only.' },
  certifications: { name: 'Certification reports (Enterprise)', description: 'Certification reports. Enterprise tier only.' },
} as const;
