// Python scripts for test/jute/kazoo.test.ts, written to a temp dir and run by /usr/bin/python3
// with Debian's kazoo. Each prints JSON lines on stdout; the last one is its result. They wait on
// conditions with a deadline (wait_until), never on fixed sleeps.

const preamble = String.raw`
import json, sys, threading, time
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import LockTimeout, NodeExistsError, NoNodeError
from kazoo.retry import KazooRetry

DEADLINE_S = 30

def emit(obj):
    print(json.dumps(obj), flush=True)

def wait_until(pred, what):
    end = time.time() + DEADLINE_S
    while not pred():
        if time.time() > end:
            raise RuntimeError('timed out waiting for ' + what)
        time.sleep(0.02)

def client(hosts, **kw):
    zk = KazooClient(hosts=hosts, timeout=10, **kw)
    zk.start(timeout=DEADLINE_S)
    return zk
`;

/** argv[1] = hosts. Lock, Election, Counter, Queue, ChildrenWatch, DataWatch, a transaction. */
export const recipesScript = preamble + String.raw`
hosts = sys.argv[1]
a = client(hosts)
b = client(hosts)
out = {}

# Lock: two sessions, one thread each; a shared count inside the lock catches any overlap.
inside = [0]; overlaps = [0]; holds = []; mu = threading.Lock(); errors = []
def contend(zk, name, rounds):
    try:
        lock = zk.Lock('/kazoo/lock', name)
        for _ in range(rounds):
            with lock:
                with mu:
                    inside[0] += 1
                    if inside[0] > 1: overlaps[0] += 1
                    holds.append(name)
                time.sleep(0.002)
                with mu: inside[0] -= 1
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=contend, args=(zk, n, 15)) for zk, n in ((a, 'a'), (b, 'b'))]
for t in threads: t.start()
for t in threads: t.join(DEADLINE_S * 2)
held = a.Lock('/kazoo/lock', 'a')
held.acquire(timeout=DEADLINE_S)
waiter = b.Lock('/kazoo/lock', 'b')
try:
    blocked = waiter.acquire(timeout=0.5)
except LockTimeout:
    blocked = 'timeout'
nonblocking = waiter.acquire(blocking=False)
queued = b.Lock('/kazoo/lock', 'b-queued')
qt = threading.Thread(target=lambda: queued.acquire(timeout=DEADLINE_S)); qt.start()
wait_until(lambda: sorted(held.contenders()) == ['a', 'b-queued'], 'the second contender queued (and the timed-out ones gone, as seen from this server)')
contenders = held.contenders()
held.release()
qt.join(DEADLINE_S)
queued_got_it = queued.is_acquired
queued.release()
# b released through its server; a may read from another one, which applies the delete a moment
# later (ZooKeeper orders each session, not two): a sync first, as a ZooKeeper user would.
a.sync('/kazoo/lock')
out['lock'] = {'errors': errors, 'overlaps': overlaps[0], 'a': holds.count('a'), 'b': holds.count('b'),
               'whileHeld': blocked, 'nonBlocking': nonblocking, 'contenders': contenders,
               'queuedGotIt': queued_got_it, 'nodesLeft': a.get_children('/kazoo/lock')}

# Election: e1 leads; e2 runs for it meanwhile and leads once e1's function returns.
order = []
seen_by_e1 = []
e1 = a.Election('/kazoo/election', 'e1'); e2 = b.Election('/kazoo/election', 'e2')
def lead_e1():
    order.append('e1')
    wait_until(lambda: len(e1.contenders()) == 2, 'e2 among the contenders')
    seen_by_e1.extend(e1.contenders())
t1 = threading.Thread(target=e1.run, args=(lead_e1,)); t1.start()
wait_until(lambda: order == ['e1'], 'e1 leads')
t2 = threading.Thread(target=e2.run, args=(lambda: order.append('e2'),)); t2.start()
t1.join(DEADLINE_S); t2.join(DEADLINE_S)
out['election'] = {'order': order, 'contendersSeenByLeader': seen_by_e1, 'after': e1.contenders()}

# Counter: two sessions add concurrently (kazoo retries its compare-and-set), then subtract.
ca = a.Counter('/kazoo/counter'); cb = b.Counter('/kazoo/counter')
def add(c):
    for _ in range(20): c += 1
threads = [threading.Thread(target=add, args=(c,)) for c in (ca, cb)]
for t in threads: t.start()
for t in threads: t.join(DEADLINE_S)
after_adds = a.Counter('/kazoo/counter').value
ca -= 5
out['counter'] = {'afterAdds': after_adds, 'final': b.Counter('/kazoo/counter').value, 'preValue': ca.pre_value, 'postValue': ca.post_value}

# Queue: priorities first (lower number first), then insertion order; consumed by another session.
q = a.Queue('/kazoo/queue')
for item in (b'one', b'two', b'three'): q.put(item)
q.put(b'urgent', priority=10); q.put(b'first', priority=1)
qb = b.Queue('/kazoo/queue')
length = len(qb)
out['queue'] = {'length': length, 'order': [qb.get().decode() for _ in range(5)], 'empty': qb.get(), 'lengthAfter': len(q)}

# ChildrenWatch and DataWatch on one node, another session's writes; then a DataWatch on a node
# that does not exist yet (created, changed, deleted).
events = []
a.ensure_path('/kazoo/w')
@a.ChildrenWatch('/kazoo/w')
def on_children(children):
    events.append(['children', sorted(children)])
@a.DataWatch('/kazoo/w')
def on_data(data, stat):
    events.append(['data', None if data is None else data.decode(), None if stat is None else stat.version])
wait_until(lambda: len(events) == 2, 'the initial calls')
b.create('/kazoo/w/x', b'')
wait_until(lambda: len(events) == 3, 'the child watch')
b.set('/kazoo/w', b'v1')
wait_until(lambda: len(events) == 4, 'the data watch')
b.create('/kazoo/w/y', b'', ephemeral=True)
wait_until(lambda: len(events) == 5, 'the child watch, ephemeral')
b.delete('/kazoo/w/x')
wait_until(lambda: len(events) == 6, 'the child watch, delete')
late = []
@a.DataWatch('/kazoo/later')
def on_later(data, stat):
    late.append([None if data is None else data.decode(), None if stat is None else stat.version])
wait_until(lambda: len(late) == 1, 'the initial call')
b.create('/kazoo/later', b'born')
wait_until(lambda: len(late) == 2, 'created')
b.set('/kazoo/later', b'grown')
wait_until(lambda: len(late) == 3, 'changed')
b.delete('/kazoo/later')
wait_until(lambda: len(late) == 4, 'deleted')
out['watches'] = {'events': events, 'later': late}

# A transaction: create + check + setData commit together; a failing check rolls back all of it.
tx = a.transaction()
tx.create('/kazoo/tx', b'made'); tx.check('/kazoo/w', 1); tx.set_data('/kazoo/w', b'v2')
ok = tx.commit()
tx = a.transaction()
tx.create('/kazoo/tx2', b'never'); tx.check('/kazoo/w', 99)
failed = tx.commit()
wait_until(lambda: len(events) == 7, 'the data watch, from the transaction')
out['transaction'] = {'ok': [ok[0], ok[1], ok[2].version], 'failed': [type(r).__name__ for r in failed],
                      'tx2': a.exists('/kazoo/tx2') is not None, 'data': a.get('/kazoo/w')[0].decode(),
                      'lastEvent': events[-1]}

b.stop(); b.close()
wait_until(lambda: len(events) == 8, 'the ephemeral of a closed session vanishes')
out['watches']['afterClose'] = events[-1]
a.stop(); a.close()
emit(out)
`;

/**
 * argv[1] = hosts (in this order: randomize_hosts off), argv[2] = ephemeral path. Creates the
 * ephemeral, prints {"connected": port, "session": hex}, waits for a line on stdin (the test kills
 * that server meanwhile), then waits to be connected elsewhere and prints what survived.
 */
export const failoverScript = preamble + String.raw`
hosts = sys.argv[1]; eph = sys.argv[2]
states = []
zk = KazooClient(hosts=hosts, timeout=10, randomize_hosts=False)
zk.add_listener(lambda s: states.append(str(s)))
zk.start(timeout=DEADLINE_S)
def peer_port():
    try:
        return zk._connection._socket.getpeername()[1]
    except Exception:
        return None
session = zk.client_id[0]
zk.create(eph, b'mine', ephemeral=True, makepath=True)
first = peer_port()
emit({'connected': first, 'session': '%x' % session})
sys.stdin.readline()
wait_until(lambda: zk.state == KazooState.CONNECTED and peer_port() not in (None, first), 'a connection to another server')
# A server reached while the ensemble still elects may drop the connection again: a request in
# flight then fails ConnectionLoss, as with ZooKeeper, and a client retries it on the same session.
retry = KazooRetry(max_tries=50, delay=0.1, max_delay=1, deadline=DEADLINE_S)
data, stat = retry(zk.get, eph)
retry(zk.set, eph, b'still mine')
def create_after():
    try:
        zk.create(eph + '-after', b'', ephemeral=True)
    except NodeExistsError:
        pass  # an earlier try was applied, its answer lost with the connection
retry(create_after)
emit({'reconnectedTo': peer_port(), 'session': '%x' % zk.client_id[0], 'ephemeral': data.decode(),
      'owner': '%x' % stat.ephemeralOwner, 'states': states})
# Stays connected (and so keeps both ephemerals) until the test closes stdin.
sys.stdin.readline()
zk.stop(); zk.close()
emit({'closed': True})
`;

/** argv[1] = hosts, argv[2] = parent. Prints each ChildrenWatch call as {"children": [...]}; ends on stdin EOF. */
export const childrenWatchScript = preamble + String.raw`
hosts = sys.argv[1]; parent = sys.argv[2]
zk = client(hosts)
zk.ensure_path(parent)
calls = []
@zk.ChildrenWatch(parent)
def on_children(children):
    calls.append(sorted(children))
    emit({'children': sorted(children)})
sys.stdin.readline()
zk.stop(); zk.close()
emit({'calls': calls})
`;
