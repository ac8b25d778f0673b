/** The Enterprise capabilities that keep records (CONTRACT §6), each one kind of EnterpriseRecord. */
export interface RecordKind {
  /** Stored in `enterprise_records.kind`, and the `object` of the API representation. */
  kind: string;
  idPrefix: string;
  /** Human name in messages: "Model card not found." */
  label: string;
}

export const MODEL_CARDS: RecordKind = { kind: 'model_card', idPrefix: 'mc', label: 'Model card' };
export const PROVENANCE: RecordKind = { kind: 'provenance_record', idPrefix: 'prov', label: 'Provenance record' };
export const COMPLIANCE: RecordKind = { kind: 'compliance_assessment', idPrefix: 'cmp', label: 'Compliance assessment' };
export const CERTIFICATIONS: RecordKind = { kind: 'certification_report', idPrefix: 'cert', label: 'Certification report' };
