/**
 * The eras a session can run, in the order of the era switch (oldest
 * first). Each entry creates a fresh machine of its era; a workload is then
 * loaded into it with `load`. Eras whose front end has not landed yet are
 * simply not listed.
 */
import type { EraSession, SessionEraInfo } from './session.js';
import { V1_2008_INFO, V1_2009_INFO, V1Session } from './v1.js';
import { V2_INFO, V2Session } from './v2.js';
import { V3_INFO, V3Session } from './v3.js';

export interface SessionEra extends SessionEraInfo {
  create(): EraSession;
}

export const SESSION_ERAS: SessionEra[] = [
  { ...V1_2008_INFO, create: () => new V1Session('2008') },
  { ...V1_2009_INFO, create: () => new V1Session('2009') },
  { ...V2_INFO, create: () => new V2Session() },
  { ...V3_INFO, create: () => new V3Session() },
];

/** The era for `--era ERA [--abi ABI]` (without --abi, the era's first ABI, as `workload run` does), or undefined. */
export function findSessionEra(era: string, abi?: string): SessionEra | undefined {
  return SESSION_ERAS.find((e) => e.era === era && (abi === undefined || e.abi === abi));
}

export function sessionEraById(id: string): SessionEra | undefined {
  return SESSION_ERAS.find((e) => e.id === id);
}

/** `v3`, `v1 --abi 2009`, ... for messages. */
export function sessionEraSpecs(): string[] {
  return SESSION_ERAS.map((e) => (e.abi === undefined ? e.era : `${e.era} --abi ${e.abi}`));
}
