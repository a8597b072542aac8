// Turns core's CONFIG_FIELDS into commander options, so every ExperimentConfig field has a flag
// and its value goes through core's one resolver.
import { type Command, Option } from 'commander';
import { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, resolveConfig, type ExperimentConfig } from '@mnist-sym-wasm/core';

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function shownDefault(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Adds one option per config field (help shows the seed's default). */
export function addConfigOptions(command: Command): Command {
  for (const key of CONFIG_KEYS) {
    const field = CONFIG_FIELDS[key];
    command.addOption(new Option(`--${field.flag} <${field.valueName}>`, `${field.help} (default: ${shownDefault(DEFAULT_CONFIG[key])})`));
  }
  return command;
}

/** Only the config flags given on the command line, raw (what `train --resume` lays over the saved config). */
export function givenConfigOptions(options: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = options[camel(CONFIG_FIELDS[key].flag)];
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

/** The resolved config from parsed commander options (raw strings validated by core). */
export function configFromOptions(options: Record<string, unknown>): ExperimentConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = options[camel(CONFIG_FIELDS[key].flag)];
    if (value !== undefined) raw[key] = value;
  }
  return resolveConfig(raw);
}
