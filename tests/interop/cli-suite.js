// The cli suite: the durable command-line client (build/durable) against a real Durable
// Task Framework worker, in both of its modes (straight to storage, and through the gateway
// with --gateway/--key), each answer cross-checked with the gateway's HTTP answer and the
// framework's own TaskHubClient (the worker's command line). Run through
// tests/interop/run-suite.sh cli, which starts Azurite, the worker and the gateway.
'use strict';
const { execFile } = require('node:child_process');
const {
    env, api, expectStatus, check, checkEqual, show, cli, cliStatus, cliList, waitFor, enc, toSeconds,
    runScenarios, finish, listAll,
} = require('./lib');

const DURABLE = process.env.DG_DURABLE_BIN;
const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];
const MODES = ['storage', 'gateway'];
const terminal = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** Runs build/durable in a mode, on the suite's hub unless args name one; resolves
 *  {code, stdout, stderr, json} (json: stdout parsed, or undefined). */
function durable(mode, args) {
    const all = [...args];
    if (!args.includes('--task-hub-name')) all.push('--task-hub-name', env.hub);
    if (mode === 'gateway') all.push('--gateway', env.url, '--key', env.key);
    return new Promise((resolve) => {
        execFile(DURABLE, all, {
            timeout: 120000, maxBuffer: 64 << 20,
            env: { PATH: process.env.PATH, AzureWebJobsStorage: process.env.AZURITE_CONNECTION_STRING },
        }, (err, stdout, stderr) => {
            let json;
            try {
                json = stdout ? JSON.parse(stdout) : undefined;
            } catch {
                json = undefined;
            }
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 99) : 0, stdout, stderr, json });
        });
    });
}

/** Like durable(), but throws unless the exit status is want (default 0). */
async function ok(mode, args, want = 0) {
    const r = await durable(mode, args);
    if (r.code !== want) throw new Error(`durable ${args.slice(0, 3).join(' ')} (${mode}): exit ${r.code}, want ${want}: ${r.stderr.trim()}`);
    return r;
}

async function status(mode, id) {
    return (await ok(mode, ['get-runtime-status', '--id', id, '--show-input', 'true', '--show-output', 'true'])).json;
}

/** get-runtime-status until the status is one of want. */
async function waitFor_(mode, id, want, timeoutMs = 45000) {
    let last;
    return waitFor(async () => {
        const r = await durable(mode, ['get-runtime-status', '--id', id, '--show-input', 'true', '--show-output', 'true']);
        last = r.code === 0 ? r.json : r.stderr.trim();
        return r.code === 0 && want.includes(r.json.runtimeStatus) ? r.json : null;
    }, { timeoutMs, intervalMs: 200, what: () => `${id} to be ${want.join('/')}: last ${show(last)}` });
}

/** The client's status object is the gateway's answer for the same query, and agrees with the framework. */
async function sameAsGatewayAndFramework(st, what) {
    const gw = expectStatus(await api('GET', `instances/${enc(st.instanceId)}`), [200, 202]).json;
    checkEqual(st, gw, `${what}: durable and the gateway`);
    const fw = await cliStatus(st.instanceId);
    check(fw, `${what}: the framework has no instance ${st.instanceId}`);
    checkEqual(st.runtimeStatus, fw.runtimeStatus, `${what}: runtimeStatus against the framework`);
    checkEqual(st.output, fw.output, `${what}: output against the framework`);
    checkEqual(st.createdTime, toSeconds(fw.createdTime), `${what}: createdTime against the framework`);
}

const scenarios = [];
for (const m of MODES) {
    const scenario = (name, fn, timeoutMs) => scenarios.push({ name: `${m}: ${name}`, fn, timeoutMs });
    const id = (s) => `cli-${m}-${s}`;

    scenario('start-new E1_HelloSequence, get-runtime-status until Completed with the real output', async () => {
        const r = await ok(m, ['start-new', '--function-name', 'E1_HelloSequence', '--id', id('hello'), '--input', '"Tokyo"']);
        checkEqual(r.json.id, id('hello'), 'start-new id');
        check(m === 'storage' ? Object.keys(r.json).length === 1 : typeof r.json.statusQueryGetUri === 'string',
            `start-new output ${show(r.json)}`);
        const st = await waitFor_(m, id('hello'), terminal);
        checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
        checkEqual(st.output, HELLO, 'output');
        checkEqual(st.input, 'Tokyo', 'input');
        await sameAsGatewayAndFramework(st, 'hello');
        /* Core Tools' defaults leave input and output out. */
        const plain = (await ok(m, ['get-runtime-status', '--id', id('hello')])).json;
        checkEqual([plain.input, plain.output], [null, null], 'default input and output');
    });

    scenario('get-history shows what the worker wrote, as the gateway does', async () => {
        await ok(m, ['start-new', '--function-name', 'E1_HelloSequence', '--id', id('history')]);
        await waitFor_(m, id('history'), ['Completed']);
        const events = (await ok(m, ['get-history', '--id', id('history')])).json;
        const gw = expectStatus(await api('GET', `instances/${id('history')}?showHistory=true&showHistoryOutput=true`), 200).json;
        checkEqual(events, gw.historyEvents, 'history against the gateway');
        const types = events.map((e) => e.EventType);
        checkEqual(types[0], 'ExecutionStarted', 'first event');
        checkEqual(types[types.length - 1], 'ExecutionCompleted', 'last event');
        checkEqual(types.filter((t) => t === 'TaskCompleted').length, 3, 'TaskCompleted events');
        checkEqual(events.filter((e) => e.EventType === 'TaskCompleted').map((e) => e.Result), HELLO, 'task results');
    });

    scenario('raise-event completes the waiting orchestration with the payload', async () => {
        await ok(m, ['start-new', '--function-name', 'WaitForEvent', '--id', id('raise')]);
        await waitFor_(m, id('raise'), ['Running']);
        const payload = { approved: true, by: 'durable', n: [1, 2.5, 'é'] };
        const r = await ok(m, ['raise-event', '--id', id('raise'), '--event-name', 'Approval', '--event-data', JSON.stringify(payload)]);
        checkEqual(r.stdout, '', 'stdout');
        const st = await waitFor_(m, id('raise'), terminal);
        checkEqual(st.runtimeStatus, 'Completed', 'runtimeStatus');
        checkEqual(st.output, payload, 'output');
        await sameAsGatewayAndFramework(st, 'raise');
        await ok(m, ['raise-event', '--id', id('raise'), '--event-name', 'Approval'], 1);
    });

    scenario('suspend gives Suspended, resume lets it finish', async () => {
        await ok(m, ['start-new', '--function-name', 'WaitForEvent', '--id', id('suspend')]);
        await waitFor_(m, id('suspend'), ['Running']);
        await ok(m, ['suspend', '--id', id('suspend'), '--reason', 'maintenance']);
        await waitFor_(m, id('suspend'), ['Suspended']);
        checkEqual((await cliStatus(id('suspend'))).runtimeStatus, 'Suspended', 'the framework\'s status');
        await ok(m, ['suspend', '--id', id('suspend')], 1);
        await ok(m, ['raise-event', '--id', id('suspend'), '--event-name', 'Approval', '--event-data', '"while suspended"']);
        await ok(m, ['resume', '--id', id('suspend'), '--reason', 'done']);
        const st = await waitFor_(m, id('suspend'), terminal);
        checkEqual([st.runtimeStatus, st.output], ['Completed', 'while suspended'], 'status and output');
    });

    scenario('terminate: Terminated with the reason as output', async () => {
        await ok(m, ['start-new', '--function-name', 'WaitForEvent', '--id', id('terminate')]);
        await waitFor_(m, id('terminate'), ['Running']);
        await ok(m, ['terminate', '--id', id('terminate'), '--reason', 'stopped by durable']);
        const st = await waitFor_(m, id('terminate'), terminal);
        checkEqual([st.runtimeStatus, st.output], ['Terminated', 'stopped by durable'], 'status and output');
        await sameAsGatewayAndFramework(st, 'terminate');
        await ok(m, ['terminate', '--id', id('terminate')], 1);
    });

    scenario('rewind brings the failed orchestration to Completed', async () => {
        await ok(m, ['start-new', '--function-name', 'FailOnce', '--id', id('rewind')]);
        const failed = await waitFor_(m, id('rewind'), terminal);
        checkEqual(failed.runtimeStatus, 'Failed', 'first runtimeStatus');
        await ok(m, ['rewind', '--id', id('rewind'), '--reason', 'try again']);
        const st = await waitFor_(m, id('rewind'), ['Completed']);
        checkEqual(st.output, 'recovered', 'output after rewind');
        await sameAsGatewayAndFramework(st, 'rewind');
        await ok(m, ['rewind', '--id', id('rewind')], 1);
    });

    scenario('delete-task-hub leaves none of the hub\'s tables, queues or containers', async () => {
        const hub = `CliDelete${m}`;
        await ok(m, ['start-new', '--function-name', 'E1_HelloSequence', '--id', 'x', '--task-hub-name', hub]);
        const before = JSON.parse((await cli(['artefacts', '--hub', hub])).stdout);
        check(before.tables.length > 0 && before.queues.length > 0, `the hub was made: ${show(before)}`);
        const r = await ok(m, ['delete-task-hub', '--task-hub-name', hub]);
        checkEqual(r.json.taskHub, hub, 'taskHub');
        const after = JSON.parse((await cli(['artefacts', '--hub', hub])).stdout);
        checkEqual([after.tables, after.queues, after.containers], [[], [], []], 'what is left');
        await ok(m, ['delete-task-hub', '--task-hub-name', hub, '--yes'], 1);
    });
}

/** Phase 2, one mode after the other on the quiet hub: get-instances --all against the
 *  framework's query and the gateway's pages, then purge-history of what that mode made. */
function phase2(m) {
    const prefix = `cli-${m}-`;
    return [{
        name: `${m}: get-instances --all is the framework's list and the gateway's pages`,
        fn: async () => {
            const got = (await ok(m, ['get-instances', '--all', '--top', '3', '--instance-id-prefix', prefix])).json;
            const gw = (await listAll(`instances?instanceIdPrefix=${prefix}&top=1000`)).items;
            checkEqual(got, gw, 'durable and the gateway');
            const fw = await cliList([`instanceIdPrefix=${prefix}`]);
            checkEqual(got.map((s) => [s.instanceId, s.runtimeStatus]).sort(),
                fw.map((s) => [s.instanceId, s.runtimeStatus]).sort(), 'ids and statuses against the framework');
            check(got.length >= 6, `${got.length} instances`);
        },
    }, {
        name: `${m}: purge-history of the finished instances; the framework sees none of them`,
        fn: async () => {
            const since = new Date(Date.now() - 1000).toISOString();
            const ids = [0, 1, 2, 3, 4].map((i) => `${prefix}purge-${i}`);
            for (const i of ids) await ok(m, ['start-new', '--function-name', 'Echo', '--id', i, '--input', '{"n":1}']);
            for (const i of ids) await waitFor_(m, i, ['Completed']);
            const r = await ok(m, ['purge-history', '--created-after', since, '--runtime-status', 'Completed', 'Terminated']);
            checkEqual(r.json, { instancesDeleted: ids.length }, 'purge-history output');
            for (const i of ids) checkEqual(await cliStatus(i), null, `the framework's status of ${i}`);
            checkEqual((await ok(m, ['get-instances', '--all', '--instance-id-prefix', `${prefix}purge-`])).json, [], 'left');
            const again = await ok(m, ['purge-history', '--created-after', since]);
            checkEqual(again.json, { instancesDeleted: 0 }, 'purge-history again');
        },
    }];
}

(async () => {
    check(DURABLE, 'DG_DURABLE_BIN is not set');
    const only = process.env.DG_INTEROP_ONLY ? new RegExp(process.env.DG_INTEROP_ONLY) : null;
    let [passed, failed] = await runScenarios(scenarios.filter((s) => !only || only.test(s.name)), 4);
    for (const m of MODES) {
        const [p, f] = await runScenarios(phase2(m).filter((s) => !only || only.test(s.name)), 1);
        passed += p;
        failed += f;
    }
    finish(passed, failed);
})();
