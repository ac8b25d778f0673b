import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsPlainName, IsStorableText } from '../../validation/text';

export class CreateDatasetDto {
  @ApiProperty({ example: 'Driving scenes 2026-Q3', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsPlainName()
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  @IsStorableText()
  description?: string;
}
