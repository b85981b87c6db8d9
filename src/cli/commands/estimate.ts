/**
 * `ksmctl estimate SNAPSHOT... [--era ID ...] [--sysfs NAME=VALUE ...]
 * [--register POLICY] [--max-passes N] [--json] [--report FILE.html]`:
 * what KSM would save on the captured processes (src/estimate). Several
 * snapshot files (or one taken with --every) are captures of the same
 * processes, the first one estimated, the others telling which pages change.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type EraEntry, EraInputError, ERA_OPTION_HELP, parseEra } from '../../eras/registry.js';
import { estimate, type Estimate } from '../../estimate/estimate.js';
import { formatEstimate } from '../../estimate/format.js';
import { renderEstimateReport } from '../../estimate/report.js';
import { REGISTER_POLICIES, type RegisterPolicy } from '../../snapshot/policy.js';
import { SnapshotError } from '../../snapshot/reader.js';
import { WorkloadError } from '../../workload/schema.js';
import { CliError } from '../errors.js';
import { checkOutputPath, writeOutputFile } from '../files.js';
import { taskProgress } from '../progress.js';
import type { Io } from '../io.js';
import { collect, parseSysfsOptions } from './workload-run.js';

export const DEFAULT_ESTIMATE_ERA = 'v3:6.18';

export interface EstimateCliOptions {
  era?: string[];
  sysfs?: string[];
  register?: string;
  maxPasses?: number;
  json?: boolean;
  report?: string;
}

export function estimateEras(list: readonly string[] | undefined): EraEntry[] {
  const out: EraEntry[] = [];
  for (const text of list?.length ? list : [DEFAULT_ESTIMATE_ERA]) {
    for (const item of text.split(',').filter((s) => s !== '')) {
      let e: EraEntry;
      try {
        e = parseEra(item);
      } catch (err) {
        if (err instanceof EraInputError) throw new CliError(`--era: ${err.message}`, 2);
        throw err;
      }
      if (!out.includes(e)) out.push(e);
    }
  }
  return out;
}

export function estimateCommand(files: string[], opts: EstimateCliOptions, onPass?: (era: string, pass: number) => void): Estimate {
  const register = opts.register ?? 'auto';
  if (!(REGISTER_POLICIES as readonly string[]).includes(register)) throw new CliError(`--register: expected one of ${REGISTER_POLICIES.join(', ')}, got "${register}"`, 2);
  const eras = estimateEras(opts.era);
  const sysfs = opts.sysfs?.length ? parseSysfsOptions(opts.sysfs) : undefined;
  try {
    return estimate(files, { eras, sysfs, register: register as RegisterPolicy, maxPasses: opts.maxPasses, onPass });
  } catch (e) {
    if (e instanceof SnapshotError || e instanceof WorkloadError) throw new CliError(e.message, 2);
    throw e;
  }
}

function passCount(v: string): number {
  if (!/^[0-9]+$/.test(v) || Number(v) < 1 || Number(v) > 100_000) throw new InvalidArgumentError('expected an integer from 1 to 100000');
  return Number(v);
}

export function addEstimateCommand(program: Command, io: Io): void {
  program
    .command('estimate')
    .description('what KSM would save on captured processes (ksmctl snapshot): the static bound, what an era\'s scanner reaches and when, its metadata and net profit, savings per process and range, and why identical pages will not merge')
    .argument('<snapshot...>', 'snapshot files; several (or one taken with --every) are captures of the same processes: the first is estimated, the later ones tell which pages change')
    .addOption(new Option('--era <era>', `${ERA_OPTION_HELP}; repeatable or comma-separated (default ${DEFAULT_ESTIMATE_ERA})`).argParser(collect))
    .option('--sysfs <name=value>', 'write /sys/kernel/mm/ksm/NAME before the run, after the era\'s boot values (repeatable): pages_to_scan, sleep_millisecs, max_page_sharing, use_zero_pages, smart_scan...', collect)
    .option('--register <policy>', 'the ranges registered: auto (default: captured if any range was MADV_MERGEABLE, else anon), captured, anon, all-private (as prctl(PR_SET_MEMORY_MERGE))')
    .addOption(new Option('--max-passes <n>', 'the most full scans per era (default 50; a run stops earlier once 2 in a row change nothing)').argParser(passCount))
    .option('--json', 'print the estimate as JSON')
    .option('--report <file.html>', 'also write a self-contained HTML report')
    .option('--force', 'replace the --report file if it exists')
    .action((files: string[], opts: EstimateCliOptions & { force?: boolean }) => {
      // The report's path is checked before the work: a run is not lost to a path that cannot be written.
      if (opts.report !== undefined) checkOutputPath(opts.report, opts.force);
      const progress = taskProgress('estimate');
      let x: Estimate;
      try {
        x = estimateCommand(files, opts, progress ? (era, pass) => progress.update(pass, Math.max(pass + 1, opts.maxPasses ?? 50), `${era}: full scan ${pass}`) : undefined);
      } finally {
        progress?.stop();
      }
      if (opts.report !== undefined) {
        writeOutputFile(opts.report, renderEstimateReport(x, ['ksmctl', ...process.argv.slice(2)].join(' ')), opts.force);
        io.err(`HTML report: ${opts.report}`);
      }
      io.out(opts.json ? JSON.stringify(x, null, 2) : formatEstimate(x));
    });
}
