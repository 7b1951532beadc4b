// The worker suite: the gateway's HTTP API against a real Durable Task Framework worker
// (DurableTask.AzureStorage), cross-checked with the framework's own TaskHubClient (the
// worker's command line). Run through tests/interop/run-suite.sh, which starts Azurite,
// the worker and the gateway. Phase 1 runs the scenarios a few at a time; phase 2, the
// differential list check, runs alone on the quiet hub.
'use strict';
const {
    env, api, expectStatus, check, checkEqual, show, cli, cliStatus, cliList, lines, waitFor, waitStatus,
    isStatus, sleep, enc, toSeconds, toTicks, runScenarios, finish, listAll,
} = require('./lib');

const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];
const scenarios = [];
const scenario = (name, fn, timeoutMs) => scenarios.push({ name, fn, timeoutMs });
const terminal = isStatus('Completed', 'Failed', 'Terminated', 'Canceled');

async function start(name, id, input, opts = {}) {
    const path = `orchestrators/${name}${id === undefined ? '' : `/${enc(id)}`}${opts.query ? `?${opts.query}` : ''}`;
    const res = await api('POST', path, input === undefined ? {} : { json: input });
    if (opts.expect !== undefined) return expectStatus(res, opts.expect);
    expectStatus(res, 202, `POST ${name}${id === undefined ? '' : `/${id}`}`);
    check(res.json && typeof res.json.id === 'string', `start: no id in ${show(res.json)}`);
    return res.json.id;
}

/** The gateway's status object and the framework's agree on everything both report. */
function sameAsFramework(gw, fw, what) {
    check(fw, `${what}: the framework has no instance ${gw.instanceId}`);
    checkEqual(gw.instanceId, fw.instanceId, `${what} instanceId`);
    checkEqual(gw.name, fw.name, `${what} name`);
    checkEqual(gw.runtimeStatus, fw.runtimeStatus, `${what} runtimeStatus`);
    checkEqual(gw.createdTime, toSeconds(fw.createdTime), `${what} createdTime`);
    checkEqual(gw.lastUpdatedTime, toSeconds(fw.lastUpdatedTime), `${what} lastUpdatedTime`);
    checkEqual(gw.output, fw.output, `${what} output`);
    checkEqual(gw.customStatus, fw.customStatus, `${what} customStatus`);
    if (gw.input !== null || fw.input !== null) checkEqual(gw.input, fw.input, `${what} input`);
}

async function finished(id, opts) {
    return (await waitStatus(id, terminal, opts)).json;
}

// ---------------------------------------------------------------- keys

scenario('keys: 401 without or with an unknown key, 403 read-only on a write, code= and master key pass', async () => {
    expectStatus(await api('GET', 'instances/nope', { key: null }), 401, 'no key');
    expectStatus(await api('GET', 'instances/nope', { key: 'not-a-key-0123456789' }), 401, 'unknown key');
    expectStatus(await api('GET', 'instances/nope', { key: env.otherKey }), 403, 'another extension\'s system key');
    expectStatus(await api('GET', 'instances/nope', { key: env.readonlyKey }), 404, 'read-only key on a read');
    expectStatus(await api('POST', 'orchestrators/Echo/keys-ro', { key: env.readonlyKey, json: 1 }), 403, 'read-only key on start');
    expectStatus(await api('GET', `instances/nope?code=${enc(env.key)}`, { key: null }), 404, 'code= query');
    expectStatus(await api('GET', 'instances/nope', { key: env.masterKey }), 404, 'master key');
});

// ---------------------------------------------------------------- start, status, wait

scenario('start then status until Completed: 200 with the real output', async () => {
    const res = expectStatus(await api('POST', 'orchestrators/E1_HelloSequence', { body: '' }), 202);
    const body = res.json;
    check(/^[0-9a-f]{32}$/.test(body.id), `generated id ${show(body.id)} is not a GUID in N format`);
    checkEqual(res.headers.get('location'), body.statusQueryGetUri, 'Location');
    checkEqual(res.headers.get('retry-after'), '10', 'Retry-After');
    checkEqual(Object.keys(body), ['id', 'statusQueryGetUri', 'sendEventPostUri', 'terminatePostUri',
        'purgeHistoryDeleteUri', 'restartPostUri', 'suspendPostUri', 'resumePostUri'], 'check-status keys');
    // Follow the link as a client would (it carries code=), until 200.
    const st = await waitFor(async () => {
        const r = await api('GET', body.statusQueryGetUri, { key: null });
        expectStatus(r, [200, 202], 'statusQueryGetUri');
        if (r.status === 202) {
            checkEqual(r.headers.get('retry-after'), '5', 'Retry-After on a running instance');
            checkEqual(r.headers.get('location'), body.statusQueryGetUri, 'Location on a running instance');
        }
        return r.status === 200 ? r : null;
    }, { what: `${body.id} to complete` });
    checkEqual(st.json.runtimeStatus, 'Completed', 'runtimeStatus');
    checkEqual(st.json.output, HELLO, 'output');
    checkEqual(Object.keys(st.json), ['name', 'instanceId', 'runtimeStatus', 'input', 'customStatus', 'output',
        'createdTime', 'lastUpdatedTime'], 'status keys');
    sameAsFramework(st.json, await cliStatus(body.id), 'status');
});

scenario('start of an orchestrator the app does not have: 400 with the known names, nothing started', async () => {
    const res = expectStatus(await api('POST', 'orchestrators/NoSuchOrchestrator/unknown-1', { json: 1 }), 400);
    checkEqual(res.json && res.json.Message, 'One or more of the arguments submitted is incorrect', 'Message');
    check(/The function 'NoSuchOrchestrator' doesn't exist.*'E1_HelloSequence'/.test(res.json.ExceptionMessage || ''),
        `ExceptionMessage ${show(res.json.ExceptionMessage)}`);
    expectStatus(await api('GET', 'instances/unknown-1'), 404, 'GET after the refused start');
    checkEqual(await cliStatus('unknown-1'), null, 'framework status');
});

scenario('start-and-wait (?timeout=&pollingInterval=): 200 with the bare output', async () => {
    const res = expectStatus(await api('POST', 'orchestrators/E1_HelloSequence/saw-1?timeout=30&pollingInterval=0.5', { body: '' }), 200);
    checkEqual(res.json, HELLO, 'body');
    check(!res.headers.get('location'), 'a Location header on the 200');
    checkEqual((await cliStatus('saw-1')).runtimeStatus, 'Completed', 'framework status');
});

scenario('start-and-wait timing out: 202 check-status', async () => {
    const t0 = Date.now();
    const res = expectStatus(await api('POST', 'orchestrators/WaitForEvent/saw-timeout?timeout=1&pollingInterval=0.25', { body: '' }), 202);
    checkEqual(res.json && res.json.id, 'saw-timeout', 'id');
    check(Date.now() - t0 >= 900, `answered after ${Date.now() - t0} ms, before the 1 s timeout`);
    expectStatus(await api('POST', 'instances/saw-timeout/terminate?reason=cleanup'), 202);
});

scenario('POST /orchestrators/{name}/wait and /api/...: 200 with the output', async () => {
    for (const prefix of ['', '/api']) {
        const res = expectStatus(await api('POST', `${prefix}/orchestrators/E1_HelloSequence/wait?timeout=30&retryInterval=0.5`, { body: '' }), 200);
        checkEqual(res.json, HELLO, `${prefix || '/'} body`);
    }
});

// ---------------------------------------------------------------- events, terminate, suspend

scenario('raise event completes the waiting orchestration with the payload', async () => {
    const id = 'raise-1';
    await start('WaitForEvent', id);
    await waitStatus(id, isStatus('Running'));
    const payload = { approved: true, by: 'interop', n: [1, 2.5, 'é'] };
    expectStatus(await api('POST', `instances/${id}/raiseEvent/Approval`, { json: payload }), 202);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    checkEqual(st.output, payload, 'output');
    sameAsFramework(st, await cliStatus(id), 'status');
    expectStatus(await api('POST', `instances/${id}/raiseEvent/Approval`, { json: 1 }), 410, 'raise after completion');
    expectStatus(await api('POST', 'instances/raise-nobody/raiseEvent/Approval', { json: 1 }), 404, 'raise to no instance');
});

scenario('terminate: Terminated with the reason as output; 410 afterwards', async () => {
    const id = 'term-1';
    await start('WaitForEvent', id);
    await waitStatus(id, isStatus('Running'));
    expectStatus(await api('POST', `instances/${id}/terminate?reason=${enc('stopped by the interop suite')}`), 202);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Terminated', 'runtimeStatus');
    checkEqual(st.output, 'stopped by the interop suite', 'output');
    sameAsFramework(st, await cliStatus(id), 'status');
    expectStatus(await api('POST', `instances/${id}/terminate?reason=again`), 410, 'second terminate');
});

scenario('suspend gives Suspended (events wait), resume lets it finish', async () => {
    const id = 'susp-1';
    await start('WaitForEvent', id);
    await waitStatus(id, isStatus('Running'));
    expectStatus(await api('POST', `instances/${id}/suspend?reason=pause`), 202);
    const s = await waitStatus(id, isStatus('Suspended'));
    checkEqual(s.status, 202, 'GET on a Suspended instance');
    checkEqual((await cliStatus(id)).runtimeStatus, 'Suspended', 'framework status');
    expectStatus(await api('POST', `instances/${id}/raiseEvent/Approval`, { json: 'while suspended' }), 202, 'raise while suspended');
    await sleep(1500);
    checkEqual((await api('GET', `instances/${id}`)).json.runtimeStatus, 'Suspended', 'status 1.5 s after the event');
    expectStatus(await api('POST', `instances/${id}/resume?reason=go`), 202);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    checkEqual(st.output, 'while suspended', 'output');
});

// ---------------------------------------------------------------- failure, rewind

scenario('failing orchestration: Failed with the failure text (500 with returnInternalServerErrorOnFailure)', async () => {
    const id = 'fail-1';
    await start('AlwaysFail', id, { why: 'test' });
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Failed', 'runtimeStatus');
    check(typeof st.output === 'string' && st.output.includes('boom'), `output ${show(st.output)} lacks "boom"`);
    sameAsFramework(st, await cliStatus(id), 'status');
    expectStatus(await api('GET', `instances/${id}`), 200, 'GET Failed');
    expectStatus(await api('GET', `instances/${id}?returnInternalServerErrorOnFailure=true`), 500, 'GET Failed with the flag');
});

scenario('rewind brings the failed orchestration to Completed', async () => {
    const id = 'rewind-1';
    await start('FailOnce', id);
    const failed = await finished(id);
    checkEqual(failed.runtimeStatus, 'Failed', 'first runtimeStatus');
    check(String(failed.output).includes('FlakyActivity failed on purpose'), `failure output ${show(failed.output)}`);
    expectStatus(await api('POST', `instances/${id}/rewind?reason=${enc('try again')}`), 202);
    const st = await waitStatus(id, isStatus('Completed'));
    checkEqual(st.json.output, 'recovered', 'output after rewind');
    sameAsFramework(st.json, await cliStatus(id), 'status');
    expectStatus(await api('POST', `instances/${id}/rewind?reason=again`), 412, 'rewind of a Completed instance');
    expectStatus(await api('POST', 'instances/rewind-nobody/rewind?reason=x'), 404, 'rewind of no instance');
});

// ---------------------------------------------------------------- custom status, history

scenario('custom status shows what the worker wrote', async () => {
    const id = 'custom-1';
    const input = { stage: 'waiting for the timer', seconds: 2, list: [1, 'two'] };
    await start('CustomStatusTimer', id, input);
    const running = await waitStatus(id, (b) => b.customStatus !== null);
    checkEqual(running.json.customStatus, input, 'customStatus while running');
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    checkEqual(st.output, 'done', 'output');
    checkEqual(st.customStatus, input, 'customStatus once completed');
    sameAsFramework(st, await cliStatus(id), 'status');
});

const EVENT_TYPES = ['ExecutionStarted', 'ExecutionCompleted', 'ExecutionFailed', 'ExecutionTerminated', 'TaskScheduled',
    'TaskCompleted', 'TaskFailed', 'SubOrchestrationInstanceCreated', 'SubOrchestrationInstanceCompleted',
    'SubOrchestrationInstanceFailed', 'TimerCreated', 'TimerFired', 'OrchestratorStarted', 'OrchestratorCompleted',
    'EventSent', 'EventRaised', 'ContinueAsNew', 'GenericEvent', 'HistoryState', 'ExecutionSuspended', 'ExecutionResumed',
    'ExecutionRewound'];
const ORCH_STATUS = ['Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Pending', 'Suspended'];

const parseResult = (v) => {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string' && v.trim() === '') return '';
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
};

/** The host's transformation (docs/http-api.md §6.2) of the framework's raw history. */
function expectedHistory(raw, { showInput = true, showHistoryOutput = false } = {}) {
    const out = [];
    const scheduled = new Map();
    const drop = new Set();
    for (const e0 of raw) {
        const type = EVENT_TYPES[e0.EventType];
        if (type === 'OrchestratorStarted' || type === 'OrchestratorCompleted') continue;
        const e = { ...e0, EventType: type };
        delete e.EventId;
        delete e.IsPlayed;
        if (!showInput) delete e.Input;
        switch (type) {
        case 'ExecutionStarted':
            delete e.Name;
            delete e.OrchestrationInstance;
            delete e.ParentInstance;
            delete e.Version;
            delete e.Tags;
            e.FunctionName = e0.Name;
            break;
        case 'TaskScheduled':
        case 'SubOrchestrationInstanceCreated':
            delete e.Version;
            scheduled.set(e0.EventId, { name: e0.Name, ts: e0.Timestamp, input: e0.Input, obj: e });
            break;
        case 'TaskCompleted':
        case 'TaskFailed':
        case 'SubOrchestrationInstanceCompleted':
        case 'SubOrchestrationInstanceFailed': {
            const s = scheduled.get(e0.TaskScheduledId);
            if (s) {
                e.ScheduledTime = s.ts;
                e.FunctionName = s.name;
                if (showInput) e.Input = s.input;
                drop.add(s.obj);
            }
            delete e.TaskScheduledId;
            if (type.endsWith('Completed')) {
                if (showHistoryOutput) e.Result = parseResult(e0.Result);
                else delete e.Result;
            }
            break;
        }
        case 'ExecutionCompleted':
            e.OrchestrationStatus = ORCH_STATUS[e0.OrchestrationStatus];
            if (showHistoryOutput) e.Result = parseResult(e0.Result);
            else delete e.Result;
            break;
        case 'TimerFired':
            delete e.TimerId;
            break;
        default:
            break;
        }
        out.push(e);
    }
    return out.filter((e) => !drop.has(e));
}

const HISTORY_KEYS = ['EventType', 'FunctionName', 'Timestamp', 'ScheduledTime', 'Result', 'OrchestrationStatus', 'Input',
    'Name', 'InstanceId', 'FireAt', 'Reason'];

/** Compares the gateway's historyEvents with the expectation on the keys clients read. */
function checkHistory(got, want, what) {
    check(Array.isArray(got), `${what}: historyEvents is ${show(got)}`);
    const types = (l) => l.map((e) => e.EventType).join(',');
    checkEqual(types(got), types(want), `${what}: event types`);
    got.forEach((g, i) => {
        const w = want[i];
        for (const k of HISTORY_KEYS) {
            if (!(k in w) && !(k in g)) continue;
            const norm = (v) => (['Timestamp', 'ScheduledTime', 'FireAt'].includes(k) ? toTicks(v) : v);
            checkEqual(norm(g[k]), norm(w[k]), `${what}: event ${i} (${w.EventType}) ${k}`);
        }
        if (!('Result' in w)) check(!('Result' in g), `${what}: event ${i} (${w.EventType}) has a Result`);
    });
}

async function rawHistory(id) {
    return JSON.parse((await cli(['history', '--', id])).stdout);
}

scenario('showHistory / showHistoryOutput show what the worker wrote', async () => {
    const id = 'history-1';
    await start('E1_HelloSequence', id, { trip: 'world' });
    await finished(id);
    const raw = await rawHistory(id);
    const plain = expectStatus(await api('GET', `instances/${id}?showHistory=true`), 200).json;
    checkHistory(plain.historyEvents, expectedHistory(raw), 'showHistory');
    const full = expectStatus(await api('GET', `instances/${id}?showHistory=true&showHistoryOutput=true`), 200).json;
    checkHistory(full.historyEvents, expectedHistory(raw, { showHistoryOutput: true }), 'showHistoryOutput');
    checkEqual(full.historyEvents.filter((e) => e.EventType === 'TaskCompleted').map((e) => e.Result), HELLO, 'activity results');
    const noInput = expectStatus(await api('GET', `instances/${id}?showHistory=true&showInput=false`), 200).json;
    checkEqual(noInput.input, null, 'input with showInput=false');
    checkHistory(noInput.historyEvents, expectedHistory(raw, { showInput: false }), 'showInput=false');
    const none = expectStatus(await api('GET', `instances/${id}`), 200).json;
    check(!('historyEvents' in none), 'historyEvents present without showHistory');
});

scenario('continue-as-new reports the last generation, as the host does', async () => {
    const id = 'can-1';
    await start('ContinueAsNewCounter', id, 0);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    checkEqual(st.output, 3, 'output');
    sameAsFramework(st, await cliStatus(id), 'status');
    const raw = await rawHistory(id);
    const h = expectStatus(await api('GET', `instances/${id}?showHistory=true&showHistoryOutput=true`), 200).json;
    checkHistory(h.historyEvents, expectedHistory(raw, { showHistoryOutput: true }), 'history');
    checkEqual(h.historyEvents[0].Input, '3', 'ExecutionStarted input of the last generation');
});

scenario('sub-orchestration: parent and child report as the host would', async () => {
    const id = 'parent-1';
    await start('ParentOrchestration', id);
    const st = await finished(id, { timeoutMs: 45000 });
    checkEqual(st.runtimeStatus, 'Completed', 'parent runtimeStatus');
    checkEqual(st.output, HELLO, 'parent output');
    sameAsFramework(st, await cliStatus(id), 'parent status');
    const raw = await rawHistory(id);
    const h = expectStatus(await api('GET', `instances/${id}?showHistory=true&showHistoryOutput=true`), 200).json;
    checkHistory(h.historyEvents, expectedHistory(raw, { showHistoryOutput: true }), 'parent history');
    const sub = h.historyEvents.find((e) => e.EventType === 'SubOrchestrationInstanceCompleted');
    check(sub && sub.FunctionName === 'E1_HelloSequence', `no SubOrchestrationInstanceCompleted for E1_HelloSequence in ${show(h.historyEvents, 400)}`);
    const created = raw.find((e) => EVENT_TYPES[e.EventType] === 'SubOrchestrationInstanceCreated');
    check(created && created.InstanceId, 'the framework history names no child instance');
    const child = expectStatus(await api('GET', `instances/${enc(created.InstanceId)}`), 200, 'GET child').json;
    checkEqual(child.name, 'E1_HelloSequence', 'child name');
    checkEqual(child.output, HELLO, 'child output');
    sameAsFramework(child, await cliStatus(created.InstanceId), 'child status');
});

// ---------------------------------------------------------------- purge

const bigString = (n, seed) => {
    const parts = [];
    for (let i = 0; parts.join('').length < n; i++) parts.push(`${seed}-${i}-ünïcødé-日本-`);
    return parts.join('').slice(0, n);
};

async function artefactsOf(id) {
    const [a, i, h] = await Promise.all([cli(['artefacts']), cli(['rows', 'Instances', id]), cli(['rows', 'History', id])]);
    const blobs = JSON.parse(a.stdout).blobs.filter((b) => b.split('/').slice(1).join('/').startsWith(`${id}/`));
    return { blobs, instances: lines(i.stdout), history: lines(h.stdout) };
}

scenario('purge removes every row and blob of the instance; the worker does not resurrect it', async () => {
    const id = 'purge-1';
    await start('LargePayload', id, bigString(120000, 'purge'));
    checkEqual((await finished(id)).runtimeStatus, 'Completed', 'runtimeStatus');
    const before = await artefactsOf(id);
    check(before.blobs.length >= 2 && before.instances.length === 1 && before.history.length > 3,
        `expected blobs and rows before the purge, found ${show(before, 300)}`);
    const res = expectStatus(await api('DELETE', `instances/${id}`), 200);
    checkEqual(res.json, { instancesDeleted: 1 }, 'purge body');
    const after = await artefactsOf(id);
    checkEqual(after, { blobs: [], instances: [], history: [] }, 'what is left of the instance');
    await sleep(2000);
    expectStatus(await api('GET', `instances/${id}`), 404, 'GET after the purge');
    checkEqual(await cliStatus(id), null, 'framework status after the purge');
    checkEqual(await artefactsOf(id), { blobs: [], instances: [], history: [] }, 'left 2 s after the purge');
    expectStatus(await api('DELETE', `instances/${id}`), 404, 'second purge');
    // A running instance is refused (EXTNEW 412).
    await start('WaitForEvent', 'purge-running');
    await waitStatus('purge-running', isStatus('Running'));
    expectStatus(await api('DELETE', 'instances/purge-running'), 412, 'purge of a running instance');
    expectStatus(await api('POST', 'instances/purge-running/terminate?reason=cleanup'), 202);
});

// ---------------------------------------------------------------- large payloads

scenario('large input and output round-trip intact through blobs', async () => {
    const id = 'large-1';
    const input = bigString(150000, 'large');
    await start('LargePayload', id, input);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    check(st.input === input, `input came back with ${String(st.input).length} chars, not the ${input.length} sent`);
    const want = [...input].reverse().join('') + 'x'.repeat(100 * 1024);
    // .NET reverses UTF-16 code units; every character here is in the BMP, so this is the same.
    check(st.output === want, `output has ${String(st.output).length} chars, expected ${want.length}`);
    const fw = await cliStatus(id);
    check(fw.input === input && fw.output === want, 'the framework reads other values');
    const blobs = (await artefactsOf(id)).blobs;
    check(blobs.some((b) => /ExecutionStarted\.json\.gz/.test(b)), `no start-message blob among ${show(blobs)}`);
});

scenario('large event payload round-trips through blobs both ways', async () => {
    const id = 'large-event-1';
    await start('WaitForEvent', id);
    await waitStatus(id, isStatus('Running'));
    const payload = { text: bigString(100000, 'event'), n: 42 };
    expectStatus(await api('POST', `instances/${id}/raiseEvent/Approval`, { json: payload }), 202);
    const st = await finished(id);
    checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
    check(isDeepEq(st.output, payload), `output differs from the payload (${String(JSON.stringify(st.output)).length} chars)`);
});

const isDeepEq = (a, b) => require('node:util').isDeepStrictEqual(a, b);

// ---------------------------------------------------------------- instance ids

const ODD_IDS = ['with space 1', 'caret^1', 'plus+1', 'ünïcødé-日本-1', 'mixed ^+ é 1'];

scenario('ids with spaces, ^, + and non-ASCII: started through the gateway, executed, reported', async () => {
    await Promise.all(ODD_IDS.map(async (id) => {
        const res = expectStatus(await api('POST', `orchestrators/Echo/${enc(id)}`, { json: id }), 202, `start ${show(id)}`);
        checkEqual(res.json.id, id, 'id in the check-status body');
        const st = await finished(id);
        checkEqual(st.instanceId, id, 'instanceId');
        checkEqual(st.output, id, 'output');
        sameAsFramework(st, await cliStatus(id), `status of ${show(id)}`);
        // The generated link addresses the same instance.
        const viaLink = expectStatus(await api('GET', res.json.statusQueryGetUri, { key: null }), 200, `statusQueryGetUri of ${show(id)}`);
        checkEqual(viaLink.json.instanceId, id, 'instanceId via the link');
    }));
});

scenario('ids with #, ? or /: refused at start; started by the framework, then reported, raised, terminated, purged', async () => {
    for (const id of ['hash#1', 'query?1', 'slash/1']) {
        expectStatus(await api('POST', `orchestrators/Echo/${enc(id)}`, { json: 1 }), 400, `start ${show(id)}`);
    }
    const ids = ['hash#2', 'query?2', 'slash/2', 'all #?/ é 2'];
    await Promise.all(ids.map((id) => cli(['start', 'WaitForEvent', '--', id])));
    for (const id of ids) {
        const st = await waitStatus(id, isStatus('Running'));
        checkEqual(st.json.instanceId, id, 'instanceId');
        checkEqual(st.json.name, 'WaitForEvent', 'name');
    }
    expectStatus(await api('POST', `instances/${enc(ids[0])}/raiseEvent/Approval`, { json: 'raised' }), 202, `raise ${ids[0]}`);
    expectStatus(await api('POST', `instances/${enc(ids[1])}/terminate?reason=bye`), 202, `terminate ${ids[1]}`);
    expectStatus(await api('POST', `instances/${enc(ids[2])}/raiseEvent/Approval`, { json: { slash: true } }), 202, `raise ${ids[2]}`);
    expectStatus(await api('POST', `instances/${enc(ids[3])}/terminate?reason=${enc('bye ü')}`), 202, `terminate ${ids[3]}`);
    const want = [['Completed', 'raised'], ['Terminated', 'bye'], ['Completed', { slash: true }], ['Terminated', 'bye ü']];
    await Promise.all(ids.map(async (id, i) => {
        const st = await finished(id);
        checkEqual([st.runtimeStatus, st.output], want[i], `status of ${show(id)}`);
        sameAsFramework(st, await cliStatus(id), `status of ${show(id)}`);
    }));
    for (const id of ids) {
        const res = expectStatus(await api('DELETE', `instances/${enc(id)}`), 200, `purge ${show(id)}`);
        checkEqual(res.json, { instancesDeleted: 1 }, `purge body of ${show(id)}`);
        expectStatus(await api('GET', `instances/${enc(id)}`), 404, `GET ${show(id)} after the purge`);
        checkEqual(await cliStatus(id), null, `framework status of ${show(id)} after the purge`);
    }
});

// ---------------------------------------------------------------- reverse direction

scenario('instances started by the framework\'s client: listed, reported, raised, terminated, purged', async () => {
    await cli(['start', 'E1_HelloSequence', 'rev-e1']);
    await cli(['start', 'WaitForEvent', 'rev-raise']);
    await cli(['start', 'WaitForEvent', 'rev-term', '{"from":"framework"}']);
    const e1 = await finished('rev-e1');
    checkEqual(e1.output, HELLO, 'rev-e1 output');
    sameAsFramework(e1, await cliStatus('rev-e1'), 'rev-e1');
    const running = await waitStatus('rev-term', isStatus('Running'));
    checkEqual(running.json.input, { from: 'framework' }, 'rev-term input');
    await waitStatus('rev-raise', isStatus('Running'));
    const listed = await listAll('instances?instanceIdPrefix=rev-');
    checkEqual(listed.items.map((i) => i.instanceId).sort(), ['rev-e1', 'rev-raise', 'rev-term'], 'listed ids');
    for (const item of listed.items) sameAsFramework(item, await cliStatus(item.instanceId), `listed ${item.instanceId}`);
    expectStatus(await api('POST', 'instances/rev-raise/raiseEvent/Approval', { json: 'from the gateway' }), 202);
    expectStatus(await api('POST', 'instances/rev-term/terminate?reason=gateway'), 202);
    checkEqual((await finished('rev-raise')).output, 'from the gateway', 'rev-raise output');
    checkEqual((await finished('rev-term')).runtimeStatus, 'Terminated', 'rev-term status');
    checkEqual((await cliStatus('rev-term')).output, 'gateway', 'framework sees the reason');
    for (const id of ['rev-e1', 'rev-raise', 'rev-term']) {
        checkEqual(expectStatus(await api('DELETE', `instances/${id}`), 200).json, { instancesDeleted: 1 }, `purge ${id}`);
        checkEqual(await cliStatus(id), null, `framework status of ${id} after the purge`);
    }
});

// ---------------------------------------------------------------- phase 2: the differential list check

/** Compares one gateway list (all pages) with the framework's query for the same filters. */
async function compareList(query, cliFilters, { top, expectCount } = {}) {
    const [gw, fw] = await Promise.all([listAll(`instances${query ? `?${query}` : ''}`), cliList(cliFilters)]);
    const byId = new Map();
    for (const item of gw.items) {
        check(!byId.has(item.instanceId), `${item.instanceId} listed twice`);
        byId.set(item.instanceId, item);
    }
    const fwIds = fw.map((s) => s.instanceId).sort();
    const gwIds = [...byId.keys()].sort();
    const missing = fwIds.filter((i) => !byId.has(i));
    const extra = gwIds.filter((i) => !fwIds.includes(i));
    check(!missing.length && !extra.length,
        `gateway ${gwIds.length} vs framework ${fwIds.length} instances; missing ${show(missing.slice(0, 5))}, extra ${show(extra.slice(0, 5))}`);
    for (const s of fw) {
        const g = byId.get(s.instanceId);
        check(!('historyEvents' in g), `${s.instanceId}: historyEvents in a list item`);
        sameAsFramework(g, s, s.instanceId);
        if (cliFilters.includes('showInput=false')) checkEqual(g.input, null, `${s.instanceId} input with showInput=false`);
    }
    if (top) {
        check(gw.pages.every((n) => n <= top), `a page larger than top=${top}: ${show(gw.pages)}`);
        if (gw.items.length > top) check(gw.pages.length > 1, `${gw.items.length} items in one page with top=${top}`);
    }
    if (expectCount !== undefined) checkEqual(gwIds.length, expectCount, 'count');
    return `${gwIds.length} instances${gw.pages.length > 1 ? `, ${gw.pages.length} pages` : ''}`;
}

async function differential() {
    const out = [];
    const t0 = new Date(Date.now() - 1000).toISOString();
    // Batch A: through the gateway and through the framework's client.
    const gwStart = async (name, prefix, n, input) => {
        const ids = Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
        for (let i = 0; i < ids.length; i += 8) {
            await Promise.all(ids.slice(i, i + 8).map((id) => start(name, id, input === undefined ? undefined : { ...input, id })));
        }
        return ids;
    };
    const fwStart = async (name, prefix, n, input) => (await cli(['start-many', name, prefix, String(n), ...(input ? [JSON.stringify(input)] : [])]))
        .stdout.split('\n').filter((l) => l !== '');
    const A = [
        ...await gwStart('Echo', 'diff-a-g-echo-', 50, { via: 'gateway' }),
        ...await gwStart('AlwaysFail', 'diff-a-g-fail-', 20),
        ...await gwStart('WaitForEvent', 'diff-a-g-wait-', 30),
    ];
    const [fa1, fa2, fa3] = await Promise.all([
        fwStart('Echo', 'diff-a-f-echo-', 50, { via: 'framework' }),
        fwStart('AlwaysFail', 'diff-a-f-fail-', 20),
        fwStart('WaitForEvent', 'diff-a-f-wait-', 30),
    ]);
    A.push(...fa1, ...fa2, ...fa3);
    await sleep(2500);
    const B = [
        ...await gwStart('Echo', 'diff-b-g-echo-', 40, { batch: 'b' }),
        ...await gwStart('WaitForEvent', 'diff-b-g-wait-', 20),
    ];
    const [fb1, fb2, fb3] = await Promise.all([
        fwStart('Echo', 'diff-b-f-echo-', 40),
        fwStart('WaitForEvent', 'diff-b-f-wait-', 20),
        fwStart('E1_HelloSequence', 'diff-b-f-e1-', 10),
    ]);
    B.push(...fb1, ...fb2, ...fb3);
    // State changes through the gateway: terminate, suspend, complete by event.
    const expected = new Map();
    for (const id of [...A, ...B]) {
        expected.set(id, /echo|e1/.test(id) ? 'Completed' : /fail/.test(id) ? 'Failed' : 'Running');
    }
    const op = async (ids, fn, status) => {
        await waitFor(async () => (await Promise.all(ids.map((id) => api('GET', `instances/${enc(id)}`))))
            .every((r) => r.json && r.json.runtimeStatus === 'Running'), { what: 'the instances to run', timeoutMs: 60000 });
        for (const id of ids) {
            expectStatus(await fn(id), 202, `${status} ${id}`);
            expected.set(id, status);
        }
    };
    const pick = (prefix, from, to) => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(4, '0')}`);
    await op([...pick('diff-a-g-wait-', 0, 10), ...pick('diff-a-f-wait-', 0, 10)],
        (id) => api('POST', `instances/${id}/terminate?reason=diff`), 'Terminated');
    await op([...pick('diff-a-g-wait-', 10, 15), ...pick('diff-b-f-wait-', 0, 5)],
        (id) => api('POST', `instances/${id}/suspend?reason=diff`), 'Suspended');
    await op([...pick('diff-a-f-wait-', 10, 20), ...pick('diff-b-g-wait-', 0, 5)],
        (id) => api('POST', `instances/${id}/raiseEvent/Approval`, { json: { id } }), 'Completed');
    // Settled: the framework reports every instance in its expected state.
    await waitFor(async () => {
        const all = await cliList(['instanceIdPrefix=diff-']);
        return all.length === expected.size && all.every((s) => s.runtimeStatus === expected.get(s.instanceId));
    }, { timeoutMs: 90000, intervalMs: 1000, what: 'the differential instances to settle' });
    const all = await cliList(['instanceIdPrefix=diff-']);
    const created = (ids) => all.filter((s) => ids.includes(s.instanceId)).map((s) => Date.parse(s.createdTime));
    const maxA = Math.max(...created(A));
    const minB = Math.min(...created(B));
    check(minB - maxA > 1000, `batches A and B are only ${minB - maxA} ms apart`);
    const mid = new Date(Math.floor((maxA + minB) / 2)).toISOString();
    out.push(`${expected.size} instances (${A.length} in batch A, ${B.length} in batch B), A/B boundary ${mid}`);
    const cases = [
        ['no filter', '', []],
        ['runtimeStatus=Completed', 'runtimeStatus=Completed', ['runtimeStatus=Completed']],
        ['runtimeStatus=Running', 'runtimeStatus=Running', ['runtimeStatus=Running']],
        ['runtimeStatus=Failed', 'runtimeStatus=Failed', ['runtimeStatus=Failed']],
        ['runtimeStatus=Terminated', 'runtimeStatus=Terminated', ['runtimeStatus=Terminated']],
        ['runtimeStatus=Suspended', 'runtimeStatus=Suspended', ['runtimeStatus=Suspended']],
        ['runtimeStatus=Running,Suspended', 'runtimeStatus=Running,Suspended', ['runtimeStatus=Running,Suspended']],
        ['runtimeStatus=Completed,Failed,Terminated', 'runtimeStatus=Completed,Failed,Terminated', ['runtimeStatus=Completed,Failed,Terminated']],
        ['instanceIdPrefix=diff-', 'instanceIdPrefix=diff-', ['instanceIdPrefix=diff-'], { expectCount: expected.size }],
        ['instanceIdPrefix=diff-a-g-', 'instanceIdPrefix=diff-a-g-', ['instanceIdPrefix=diff-a-g-'], { expectCount: 100 }],
        ['instanceIdPrefix=nomatch-', 'instanceIdPrefix=nomatch-', ['instanceIdPrefix=nomatch-'], { expectCount: 0 }],
        ['createdTimeFrom=A/B boundary', `createdTimeFrom=${mid}`, [`createdTimeFrom=${mid}`], { expectCount: B.length }],
        ['createdTimeTo=A/B boundary', `createdTimeTo=${mid}`, [`createdTimeTo=${mid}`]],
        ['createdTimeFrom..createdTimeTo (batch A)', `createdTimeFrom=${t0}&createdTimeTo=${mid}`,
            [`createdTimeFrom=${t0}`, `createdTimeTo=${mid}`], { expectCount: A.length }],
        ['createdTimeFrom + runtimeStatus=Running', `createdTimeFrom=${mid}&runtimeStatus=Running`,
            [`createdTimeFrom=${mid}`, 'runtimeStatus=Running']],
        ['createdTimeTo + instanceIdPrefix', `createdTimeTo=${mid}&instanceIdPrefix=diff-a-f-`,
            [`createdTimeTo=${mid}`, 'instanceIdPrefix=diff-a-f-'], { expectCount: 100 }],
        ['top=7 (paging over every instance)', 'top=7', ['top=7'], { top: 7 }],
        ['top=50 + runtimeStatus=Completed', 'top=50&runtimeStatus=Completed', ['top=50', 'runtimeStatus=Completed'], { top: 50 }],
        ['top=1 + instanceIdPrefix', 'top=1&instanceIdPrefix=diff-b-f-e1-', ['top=1', 'instanceIdPrefix=diff-b-f-e1-'], { top: 1, expectCount: 10 }],
        ['showInput=false', 'showInput=false&instanceIdPrefix=diff-a-', ['showInput=false', 'instanceIdPrefix=diff-a-']],
    ];
    return [out, cases.map(([name, query, filters, opts]) => ({
        name: `list differential: ${name}`,
        fn: () => compareList(query, filters, opts),
        timeoutMs: 60000,
    }))];
}

(async () => {
    const t0 = Date.now();
    const only = process.env.DG_INTEROP_ONLY ? new RegExp(process.env.DG_INTEROP_ONLY) : null;
    const phase1 = scenarios.filter((s) => !only || only.test(s.name));
    let [passed, failed] = await runScenarios(phase1, 5);
    console.log(`phase 1: ${phase1.length} scenarios in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (!only || only.test('list differential')) {
        const t1 = Date.now();
        let cases = [];
        try {
            const [notes, c] = await differential();
            cases = c;
            console.log(`list differential: ${notes.join('; ')} (set up in ${((Date.now() - t1) / 1000).toFixed(1)} s)`);
        } catch (e) {
            failed++;
            console.log(`FAIL list differential: setup: ${e.message}`);
        }
        const [p2, f2] = await runScenarios(cases, 2);
        passed += p2;
        failed += f2;
        console.log(`phase 2: ${cases.length} list comparisons in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    }
    finish(passed, failed);
})();
