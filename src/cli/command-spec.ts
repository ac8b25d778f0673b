import type { INestApplicationContext, Type } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import type { Actor } from '../auth/principal';
import { createValidationPipe } from '../errors/validation';

/** What one admin command runs once the application context is up; its result is printed as JSON. */
export type Command = (app: INestApplicationContext) => Promise<unknown>;

export interface OptionSpec {
  /** Placeholder of the option's value; none for a switch. */
  value?: string;
  help: string;
}

/**
 * One command of the admin command line. `prepare` checks the input (usage, then the API's DTO
 * rules) before anything connects, so a mistake never waits for, creates or locks a database.
 */
export interface CommandSpec {
  name: string;
  /** Positional arguments, in order. */
  args?: string[];
  /** The ways to call it, after the command's name. */
  forms: string[];
  summary: string;
  description: string;
  options?: Record<string, OptionSpec>;
  prepare(input: { args: string[]; values: Record<string, string | boolean | undefined> }): Promise<Command>;
}

/** The actor of every change made from the command line (audit events, `created_by`). */
export const SYSTEM: Actor = { type: 'system', id: 'admin-cli' };

/** Bad command-line usage: exit 2. `usage` is the text that shows the right form. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

// The API's own pipe: the same rules, messages and `[{field, message}]` details as a request body.
const pipe = createValidationPipe();

/** Checks operator input against an API DTO; throws the API's VALIDATION_FAILED AppError. */
export function validated<T>(dto: Type<T>, input: Record<string, unknown>): Promise<T> {
  const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
  return pipe.transform(given, { type: 'body', metatype: dto }) as Promise<T>;
}

/** A bound a DTO declares (`maxLength` of `name`, `max` of `max`): help states the rule the validation applies. */
export function ruleOf(dto: Type<unknown>, property: string, rule: string): unknown {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  return rules.find((candidate) => candidate.propertyName === property && candidate.name === rule)?.constraints?.[0];
}

/** A decimal number typed on the command line becomes a number (as in a JSON body); anything else stays text for the DTO to refuse. */
export function asNumber(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

export function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string') throw new UsageError(`${flag} is required`);
  return value;
}
