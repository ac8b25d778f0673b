import { idPattern } from '../database/ids';

/** The Enterprise capabilities that keep records (CONTRACT §6), each one kind of EnterpriseRecord. */
export interface RecordKind {
  /** Stored in `enterprise_records.kind`, and the `object` of the API representation. */
  kind: string;
  idPrefix: string;
  /** Ids of this kind (built once: a malformed id is refused without a query). */
  ids: RegExp;
  /** Human name in messages: "Model card not found." */
  label: string;
}

function recordKind(kind: string, idPrefix: string, label: string): RecordKind {
  return { kind, idPrefix, ids: idPattern(idPrefix), label };
}

export const MODEL_CARDS = recordKind('model_card', 'mc', 'Model card');
export const PROVENANCE = recordKind('provenance_record', 'prov', 'Provenance record');
export const COMPLIANCE = recordKind('compliance_assessment', 'cmp', 'Compliance assessment');
export const CERTIFICATIONS = recordKind('certification_report', 'cert', 'Certification report');
