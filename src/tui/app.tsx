/**
 * The ksmctl TUI's root. It receives a loaded session (and the workload, to
 * restart it under another era), runs virtual time from a real-time timer,
 * maps keys to commands through the key table, and lays the presentational
 * panels out for the terminal's size.
 */
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { EraEntry } from '../eras/registry.js';
import type { CallRecord, EraSession } from '../session/session.js';
import type { Churn } from '../workload/builtin.js';
import type { Workload } from '../workload/schema.js';
import { fileRows } from './era-files.js';
import { type Command, commandFor, KEY_TABLE, keyName, keyNames, keyOf, missingFileCommands } from './keys.js';
import { layout } from './layout.js';
import { TuiModel } from './model.js';
import { Footer, Header } from './panels/bars.js';
import { ChartPanel } from './panels/chart.js';
import { CountersPanel } from './panels/counters.js';
import { EraPicker } from './panels/era-picker.js';
import { HelpPanel } from './panels/help.js';
import { LogPanel } from './panels/log.js';
import { MemoryMapPanel } from './panels/memory-map.js';
import { ProcessesPanel, statLine } from './panels/processes.js';

export interface AppProps {
  /** A session with its workload loaded. */
  session: EraSession;
  /** The workload it was loaded with: the era switch and new guests need it. */
  workload?: Workload;
  /** Pages that keep changing while time runs. */
  churn?: Churn[];
  /** The calls made while loading, shown first in the log. */
  loadCalls?: CallRecord[];
  /** The era switch's choices (default: the registry's). */
  eras?: readonly EraEntry[];
  /** Real milliseconds between ticks of virtual time; 0 runs no timer (tests drive time with keys). */
  tickMs?: number;
  /** Start paused. */
  paused?: boolean;
  /** Terminal size; by default stdout's, following resizes. */
  columns?: number;
  rows?: number;
}

type Mode = 'main' | 'help' | 'era';

/** Keys that do nothing attached to a host (its processes and its era are its programs'), and those a real clock adds. */
const ATTACHED_UNAVAILABLE: Command[] = ['churn', 'autoChurn', 'exitProcess', 'spawnGuest', 'era', ...KEY_TABLE.filter((b) => b.file !== undefined).map((b) => b.command)];
const REAL_CLOCK_UNAVAILABLE: Command[] = ['faster', 'slower', 'pause', 'step'];

/**
 * The size the layout is made for and the least it takes: every counter,
 * the footer (or its `?` pointer), the processes with their scroll marker
 * and a few calls fit in 80×24. Smaller, one line says so (the README says
 * the same).
 */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

/** stdout's size, updated on resize (unless fixed by props). */
function useTerminalSize(columns?: number, rows?: number): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: columns ?? stdout.columns ?? 80, rows: rows ?? stdout.rows ?? 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (columns !== undefined && rows !== undefined) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, columns, rows]);
  return size;
}

export function App(props: AppProps) {
  const { tickMs = 100 } = props;
  const model = useMemo(
    () =>
      new TuiModel(props.session, {
        workload: props.workload,
        churn: props.churn,
        loadCalls: props.loadCalls,
        eras: props.eras,
        paused: props.paused,
      }),
    // The model lives as long as the app: a new session comes through the era switch.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const { exit } = useApp();
  const [, setVersion] = useState(0);
  const [mode, setMode] = useState<Mode>('main');
  const [highlighted, setHighlighted] = useState(0);
  const refresh = () => setVersion(model.version);
  const size = useTerminalSize(props.columns, props.rows);
  const mapBuffer = useRef(new Uint8Array(0));

  // Answers of an attached host arrive between ticks and key presses.
  useEffect(() => model.subscribe(() => setVersion(model.version)), [model]);

  useEffect(() => {
    if (tickMs <= 0) return;
    let last = performance.now();
    const id = setInterval(() => {
      const now = performance.now();
      // A stalled timer (a suspended terminal) does not make virtual time jump.
      model.tick(Math.min(1000, now - last));
      last = now;
      setVersion(model.version);
    }, tickMs);
    return () => clearInterval(id);
  }, [model, tickMs]);

  useInput(
    (input, key) => {
      // Keys that arrive together run in order until one changes the mode.
      for (const name of keyNames(input, key)) {
        const command = commandFor(name);
        if (command === undefined) continue;
        if (command === 'quit') {
          exit();
          return;
        }
        if (command === 'era' && model.remote !== null) {
          model.run(command);
          continue;
        }
        if (command === 'help' || command === 'era') {
          if (command === 'era') setHighlighted(Math.max(0, model.eras.findIndex((e) => e.id === model.session.info.id)));
          setMode(command);
          break;
        }
        model.run(command);
      }
      refresh();
    },
    { isActive: mode === 'main' },
  );

  useInput(
    (input, key) => {
      const name = keyName(input, key);
      if (name === 'escape' || commandFor(name) === 'help' || name === 'q') setMode('main');
    },
    { isActive: mode === 'help' },
  );

  useInput(
    (input, key) => {
      const name = keyName(input, key);
      const n = model.eras.length;
      if (name === 'escape' || name === 'e' || name === 'q') setMode('main');
      else if (name === 'up' || name === 'k') setHighlighted((h) => (h + n - 1) % n);
      else if (name === 'down' || name === 'j') setHighlighted((h) => (h + 1) % n);
      else if (name === 'enter' || (name !== undefined && /^[1-9]$/.test(name) && Number(name) <= n)) {
        const i = name === 'enter' ? highlighted : Number(name) - 1;
        model.switchEra(model.eras[i].id);
        setMode('main');
        refresh();
      }
    },
    { isActive: mode === 'era' },
  );

  if (size.columns < MIN_COLUMNS || size.rows < MIN_ROWS) {
    return (
      <Text>
        terminal too small: need {MIN_COLUMNS}×{MIN_ROWS} (this one is {size.columns}×{size.rows}); q quits
      </Text>
    );
  }

  const s = model.session;
  const processes = s.processes();
  const files = s.files();
  const samples = model.samples;
  const rows = fileRows(files, s.nodes(), samples);
  const sizes = (processLines: number) => layout(size.columns, size.rows, s.counterNames.length, processes.length, { fileRows: rows.length, processLines });
  let L = sizes(0);
  // A narrow processes panel shows the selected process's ksm_stat on a line of its own.
  if (statLine(processes, L.rightWidth)) L = sizes(1);
  const counters = s.counters();
  const rates = model.rates();
  const knobs = s.knobs();
  const ksmd = s.ksmdState();
  const selected = processes.find((p) => p.pid === model.selectedPid);
  let states: Uint8Array = new Uint8Array(0);
  if (selected !== undefined) {
    if (mapBuffer.current.length < selected.registeredPages) mapBuffer.current = new Uint8Array(selected.registeredPages);
    states = s.pageStates(selected.pid, mapBuffer.current);
  }
  const workloadName = model.workload?.name ?? 'attached';
  const remote = model.remote;
  const unavailable = remote === null ? [] : remote.clock === 'manual' ? ATTACHED_UNAVAILABLE : [...ATTACHED_UNAVAILABLE, ...REAL_CLOCK_UNAVAILABLE];

  return (
    <Box flexDirection="column" width={L.width} height={L.height}>
      <Header
        width={L.width}
        era={s.info.label}
        workload={workloadName}
        now={s.now()}
        speedFactor={model.speed}
        paused={model.paused}
        lagging={model.lagging}
        ksmd={ksmd}
        autoChurn={model.autoChurn}
        churns={(props.churn?.length ?? 0) > 0}
        attached={remote === null ? undefined : { socket: remote.socket, clock: remote.clock, gone: remote.error !== null }}
      />
      {mode === 'help' ? (
        <HelpPanel width={L.width} height={L.bodyHeight} unavailable={unavailable} omit={missingFileCommands(files.filter((f) => f.writable).map((f) => f.name))} />
      ) : (
        <>
          {mode === 'era' ? (
            <EraPicker
              width={L.width}
              height={L.mainHeight}
              eras={model.eras}
              current={s.info.id}
              highlighted={highlighted}
              workload={workloadName}
            />
          ) : (
            <Box height={L.mainHeight}>
              <Box flexDirection="column" width={L.leftWidth}>
                <CountersPanel
                  width={L.leftWidth}
                  height={L.countersHeight}
                  era={s.info.label}
                  counters={counters.map((c, i) => ({ ...c, history: samples.map((x) => x.counters[i] ?? 0) }))}
                  files={rows}
                  scanRate={rates.scan}
                  mergeRate={rates.merge}
                  cpuShare={rates.cpu}
                  ksmd={ksmd}
                  knobs={knobs}
                  paused={model.paused}
                />
                {L.chartHeight > 0 ? <ChartPanel width={L.leftWidth} height={L.chartHeight} points={samples.map((x) => ({ t: x.t, v: x.pagesSaved }))} /> : null}
              </Box>
              <Box flexDirection="column" width={L.rightWidth}>
                <ProcessesPanel
                  width={L.rightWidth}
                  height={L.processesHeight}
                  processes={processes}
                  selectedPid={model.selectedPid}
                  hint={`${keyOf('selectUp')}${keyOf('selectDown')} select`}
                />
                <MemoryMapPanel
                  width={L.rightWidth}
                  height={L.mapHeight}
                  name={selected?.name}
                  pid={selected?.pid}
                  states={states}
                  labels={s.stateLabels}
                />
              </Box>
            </Box>
          )}
          <LogPanel
            width={L.width}
            height={L.logHeight}
            lines={model.log}
            times={L.logTimes}
            era={s.info.label}
            title={remote === null ? undefined : `Calls · the host's trace · ${s.info.label}`}
          />
        </>
      )}
      <Footer width={L.width} omit={unavailable} />
    </Box>
  );
}
