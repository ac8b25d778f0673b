import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsString, Matches, ValidateNested } from 'class-validator';
import { CreateRecordDto } from './create-record.dto';

export const SUBJECT_TYPES = ['dataset', 'model_card'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export class SubjectDto {
  @ApiProperty({ enum: SUBJECT_TYPES })
  @IsIn(SUBJECT_TYPES)
  type!: SubjectType;

  @ApiProperty({ example: 'ds_0193a1b2c3d4e5f60718293a4b5c' })
  @IsString()
  @Matches(/^(ds|mc)_[0-9a-f]{28}$/, { message: 'subject.id must be a dataset or model card id' })
  id!: string;
}

/** A provenance record names the dataset or model card it describes. */
export class CreateProvenanceDto extends CreateRecordDto {
  @ApiProperty({ type: SubjectDto })
  @IsDefined({ message: 'subject is required: the dataset or model card this record describes' })
  @ValidateNested()
  @Type(() => SubjectDto)
  subject!: SubjectDto;
}
