import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import java.util.*;
import java.util.concurrent.CountDownLatch;

public class Probe {
  static String st(Stat s) {
    return String.format("czxid=0x%x mzxid=0x%x pzxid=0x%x version=%d cversion=%d aversion=%d ephemeralOwner=0x%x dataLength=%d numChildren=%d ctime=%d mtime=%d",
      s.getCzxid(), s.getMzxid(), s.getPzxid(), s.getVersion(), s.getCversion(), s.getAversion(), s.getEphemeralOwner(), s.getDataLength(), s.getNumChildren(), s.getCtime(), s.getMtime());
  }
  static ZooKeeper connect(String hp) throws Exception {
    CountDownLatch l = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(hp, 10000, e -> { if (e.getState() == Watcher.Event.KeeperState.SyncConnected) l.countDown(); });
    l.await();
    return zk;
  }
  interface Act { Object run() throws Exception; }
  static void t(String label, Act a) {
    try { Object r = a.run(); System.out.println(label + " -> " + (r instanceof Stat ? st((Stat) r) : String.valueOf(r))); }
    catch (KeeperException e) {
      System.out.println(label + " -> " + e.code() + (e.getResults() != null ? " results=" + res(e.getResults()) : "") + " path=" + e.getPath());
    }
    catch (Exception e) { System.out.println(label + " -> EXC " + e); }
  }
  static String res(List<OpResult> rs) {
    StringBuilder b = new StringBuilder("[");
    for (OpResult r : rs) {
      if (r instanceof OpResult.ErrorResult) b.append("error(" + KeeperException.Code.get(((OpResult.ErrorResult) r).getErr()) + ") ");
      else if (r instanceof OpResult.CreateResult) b.append("create(" + ((OpResult.CreateResult) r).getPath() + ") ");
      else b.append(r.getClass().getSimpleName() + " ");
    }
    return b.append("]").toString();
  }
  public static void main(String[] args) throws Exception {
    String hp = args[0];
    ZooKeeper zk = connect(hp);
    List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    System.out.println("== session 0x" + Long.toHexString(zk.getSessionId()));
    // 1. cversion / pzxid after child create + delete; sequential suffix after deletes
    t("create /p", () -> zk.create("/p", new byte[0], open, CreateMode.PERSISTENT));
    t("stat /p", () -> zk.exists("/p", false));
    t("create /p/a", () -> zk.create("/p/a", new byte[0], open, CreateMode.PERSISTENT));
    t("stat /p after create a", () -> zk.exists("/p", false));
    t("delete /p/a", () -> { zk.delete("/p/a", -1); return "ok"; });
    t("stat /p after delete a", () -> zk.exists("/p", false));
    t("create seq /p/s-", () -> zk.create("/p/s-", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL));
    t("stat /p after seq", () -> zk.exists("/p", false));
    t("create seq /p/s-", () -> zk.create("/p/s-", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL));
    t("delete /p/s-0000000001", () -> { zk.delete("/p/s-0000000001", -1); return "ok"; });
    t("delete /p/s-0000000002", () -> { zk.delete("/p/s-0000000002", -1); return "ok"; });
    t("stat /p after 2 deletes", () -> zk.exists("/p", false));
    t("create seq /p/s- again", () -> zk.create("/p/s-", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL));
    t("create seq /p/ (empty stem)", () -> zk.create("/p/", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL));
    t("create nonseq /p/ trailing slash", () -> zk.create("/p/", new byte[0], open, CreateMode.PERSISTENT));
    // failed create: does it bump cversion?
    t("create existing /p/s-0000000003", () -> zk.create("/p/s-0000000003", new byte[0], open, CreateMode.PERSISTENT));
    t("stat /p after failed create", () -> zk.exists("/p", false));
    // setData: parent unchanged?
    t("setData /p/s-0000000003", () -> zk.setData("/p/s-0000000003", "hi".getBytes(), -1));
    t("stat /p after child setData", () -> zk.exists("/p", false));
    t("setData /p/s-0000000003 bad version", () -> zk.setData("/p/s-0000000003", "hi".getBytes(), 7));
    t("setACL /p/s-0000000003 v0", () -> zk.setACL("/p/s-0000000003", open, 0));
    t("setACL /p/s-0000000003 v0 again", () -> zk.setACL("/p/s-0000000003", open, 0));
    t("stat /p after child setACL", () -> zk.exists("/p", false));
    // delete of ephemeral's parent etc
    t("create ephemeral /p/e", () -> zk.create("/p/e", new byte[0], open, CreateMode.EPHEMERAL));
    t("stat /p/e", () -> zk.exists("/p/e", false));
    t("create child of ephemeral /p/e/c", () -> zk.create("/p/e/c", new byte[0], open, CreateMode.PERSISTENT));
    t("create existing child of ephemeral /p/e", () -> zk.create("/p/e", new byte[0], open, CreateMode.PERSISTENT));
    t("create child of ephemeral nonexisting parent", () -> zk.create("/p/e/c/d", new byte[0], open, CreateMode.PERSISTENT));
    // container / TTL
    t("create container /c", () -> zk.create("/c", new byte[0], open, CreateMode.CONTAINER));
    t("stat /c", () -> zk.exists("/c", false));
    t("create ttl /t 5000", () -> { Stat s = new Stat(); zk.create("/t", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 5000); return s; });
    t("create ttl /t0 ttl 0", () -> { Stat s = new Stat(); zk.create("/t0", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 0); return s; });
    t("create ttl /tneg ttl -5", () -> { Stat s = new Stat(); zk.create("/tneg", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, -5); return s; });
    t("create ttl /tmax ttl 0xffffffffff", () -> { Stat s = new Stat(); zk.create("/tmax", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 0xffffffffffL); return s; });
    t("create ttl /tmax1 ttl 0x10000000000", () -> { Stat s = new Stat(); zk.create("/tmax1", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 0x10000000000L); return s; });
    t("create persistent with ttl 100", () -> { Stat s = new Stat(); zk.create("/pttl", new byte[0], open, CreateMode.PERSISTENT, s, 100); return s; });
    t("create ttl seq /ts-", () -> { Stat s = new Stat(); return zk.create("/ts-", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, s, 3000); });
    t("create child of ttl /t/x", () -> zk.create("/t/x", new byte[0], open, CreateMode.EPHEMERAL));
    t("create child of container /c/x", () -> zk.create("/c/x", new byte[0], open, CreateMode.EPHEMERAL));
    // getAllChildrenNumber
    t("create /p/s-0000000003/deep", () -> zk.create("/p/s-0000000003/deep", new byte[0], open, CreateMode.PERSISTENT));
    t("getChildren /p", () -> zk.getChildren("/p", false));
    t("getAllChildrenNumber /p", () -> zk.getAllChildrenNumber("/p"));
    t("getAllChildrenNumber /", () -> zk.getAllChildrenNumber("/"));
    t("getAllChildrenNumber /nonexist", () -> zk.getAllChildrenNumber("/nonexist"));
    // /zookeeper writes
    t("ls /zookeeper", () -> zk.getChildren("/zookeeper", false));
    t("stat /zookeeper", () -> zk.exists("/zookeeper", false));
    t("getACL /zookeeper", () -> zk.getACL("/zookeeper", new Stat()));
    t("getACL /zookeeper/config", () -> zk.getACL("/zookeeper/config", new Stat()));
    t("getACL /zookeeper/quota", () -> zk.getACL("/zookeeper/quota", new Stat()));
    t("stat /", () -> zk.exists("/", false));
    t("getACL /", () -> zk.getACL("/", new Stat()));
    t("create /zookeeper/x", () -> zk.create("/zookeeper/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create /zookeeper/quota/x", () -> zk.create("/zookeeper/quota/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create /zookeeper", () -> zk.create("/zookeeper", new byte[0], open, CreateMode.PERSISTENT));
    t("setData /zookeeper", () -> zk.setData("/zookeeper", new byte[1], -1));
    t("setData /zookeeper/config", () -> zk.setData("/zookeeper/config", new byte[1], -1));
    t("setData /zookeeper/quota", () -> zk.setData("/zookeeper/quota", new byte[1], -1));
    t("delete /zookeeper", () -> { zk.delete("/zookeeper", -1); return "ok"; });
    t("delete /zookeeper/quota", () -> { zk.delete("/zookeeper/quota", -1); return "ok"; });
    t("delete /zookeeper/config", () -> { zk.delete("/zookeeper/config", -1); return "ok"; });
    t("delete /zookeeper/x", () -> { zk.delete("/zookeeper/x", -1); return "ok"; });
    t("delete /zookeeper/quota/x", () -> { zk.delete("/zookeeper/quota/x", -1); return "ok"; });
    t("setACL /zookeeper", () -> zk.setACL("/zookeeper", open, -1));
    t("delete /", () -> { zk.delete("/", -1); return "ok"; });
    t("setData /", () -> zk.setData("/", new byte[1], -1));
    t("stat / after", () -> zk.exists("/", false));
    t("create /", () -> zk.create("/", new byte[0], open, CreateMode.PERSISTENT));
    // multi
    t("multi ok+fail+after", () -> zk.multi(Arrays.asList(
      Op.create("/m1", new byte[0], open, CreateMode.PERSISTENT),
      Op.check("/p", 99),
      Op.create("/m2", new byte[0], open, CreateMode.PERSISTENT),
      Op.delete("/nonexist", -1))));
    t("exists /m1 after failed multi", () -> zk.exists("/m1", false));
    t("multi create+delete same", () -> res(zk.multi(Arrays.asList(
      Op.create("/m3", new byte[0], open, CreateMode.PERSISTENT),
      Op.create("/m3/x", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL),
      Op.create("/m3/x", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL),
      Op.delete("/m3/x0000000000", -1),
      Op.setData("/m3", new byte[3], 0),
      Op.check("/m3", 1)))));
    t("stat /m3", () -> zk.exists("/m3", false));
    t("multi empty", () -> res(zk.multi(new ArrayList<Op>())));
    t("multi first fails", () -> zk.multi(Arrays.asList(
      Op.delete("/nonexist", -1),
      Op.create("/m4", new byte[0], open, CreateMode.PERSISTENT))));
    t("multi seq then fail: next seq number", () -> zk.multi(Arrays.asList(
      Op.create("/m3/y", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL),
      Op.check("/nonexist", 0))));
    t("create after failed multi seq", () -> zk.create("/m3/y", new byte[0], open, CreateMode.PERSISTENT_SEQUENTIAL));
    // zxid after failed op: do failures consume a zxid?
    t("create /z1", () -> { Stat s = new Stat(); zk.create("/z1", new byte[0], open, CreateMode.PERSISTENT, s); return s; });
    t("failed setData /nonexist", () -> zk.setData("/nonexist", new byte[0], -1));
    t("failed create /z1", () -> zk.create("/z1", new byte[0], open, CreateMode.PERSISTENT));
    t("create /z2", () -> { Stat s = new Stat(); zk.create("/z2", new byte[0], open, CreateMode.PERSISTENT, s); return s; });
    // ACLs
    t("create bad ACL empty", () -> zk.create("/a0", new byte[0], new ArrayList<ACL>(), CreateMode.PERSISTENT));
    t("create auth ACL no auth", () -> zk.create("/a1", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
    t("create world:foo ACL", () -> zk.create("/a2", new byte[0], Arrays.asList(new ACL(31, new Id("world", "foo"))), CreateMode.PERSISTENT));
    t("create bogus scheme ACL", () -> zk.create("/a3", new byte[0], Arrays.asList(new ACL(31, new Id("bogus", "foo"))), CreateMode.PERSISTENT));
    t("create perms 0 ACL", () -> zk.create("/a4", new byte[0], Arrays.asList(new ACL(0, new Id("world", "anyone"))), CreateMode.PERSISTENT));
    t("create perms 255 ACL", () -> zk.create("/a5", new byte[0], Arrays.asList(new ACL(255, new Id("world", "anyone"))), CreateMode.PERSISTENT));
    t("getACL /a5", () -> zk.getACL("/a5", new Stat()));
    t("create digest ACL no colon", () -> zk.create("/a6", new byte[0], Arrays.asList(new ACL(31, new Id("digest", "nocolon"))), CreateMode.PERSISTENT));
    t("create digest ACL two colons", () -> zk.create("/a6b", new byte[0], Arrays.asList(new ACL(31, new Id("digest", "a:b:c"))), CreateMode.PERSISTENT));
    t("create ip ACL bad", () -> zk.create("/a7", new byte[0], Arrays.asList(new ACL(31, new Id("ip", "notanip"))), CreateMode.PERSISTENT));
    t("create ip ACL cidr", () -> zk.create("/a8", new byte[0], Arrays.asList(new ACL(31, new Id("ip", "127.0.0.0/8"))), CreateMode.PERSISTENT));
    t("create /a8/x (ip 127/8 matches)", () -> zk.create("/a8/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create ip ACL 10.0.0.0/8", () -> zk.create("/a9", new byte[0], Arrays.asList(new ACL(31, new Id("ip", "10.0.0.0/8"))), CreateMode.PERSISTENT));
    t("create /a9/x (ip no match)", () -> zk.create("/a9/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create ip ACL /33", () -> zk.create("/a10", new byte[0], Arrays.asList(new ACL(31, new Id("ip", "127.0.0.1/33"))), CreateMode.PERSISTENT));
    t("create ip ACL /0", () -> zk.create("/a11", new byte[0], Arrays.asList(new ACL(31, new Id("ip", "1.2.3.4/0"))), CreateMode.PERSISTENT));
    t("create /a11/x (ip /0 matches all?)", () -> zk.create("/a11/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create dup ACL", () -> zk.create("/a12", new byte[0], Arrays.asList(new ACL(31, new Id("world", "anyone")), new ACL(31, new Id("world", "anyone"))), CreateMode.PERSISTENT));
    t("getACL /a12", () -> zk.getACL("/a12", new Stat()));
    t("read-only node /ro", () -> zk.create("/ro", new byte[0], ZooDefs.Ids.READ_ACL_UNSAFE, CreateMode.PERSISTENT));
    t("create /ro/x (NOAUTH)", () -> zk.create("/ro/x", new byte[0], open, CreateMode.PERSISTENT));
    t("create /ro/x with bad acl: which error first", () -> zk.create("/ro/x", new byte[0], new ArrayList<ACL>(), CreateMode.PERSISTENT));
    t("create /nonexist/x with bad acl: which first", () -> zk.create("/nonexist/x", new byte[0], new ArrayList<ACL>(), CreateMode.PERSISTENT));
    t("setData /ro", () -> zk.setData("/ro", new byte[0], 5));
    t("delete /ro/nonexist (NOAUTH before NONODE?)", () -> { zk.delete("/ro/nonexist", -1); return "ok"; });
    t("multi check /ro (READ ok)", () -> res(zk.multi(Arrays.asList(Op.check("/ro", 0)))));
    t("digest of u:p", () -> DigestAuthenticationProvider.generateDigest("u:p"));
    zk.addAuthInfo("digest", "u:p".getBytes());
    t("create auth ACL with digest", () -> zk.create("/d1", new byte[0], ZooDefs.Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
    t("getACL /d1", () -> zk.getACL("/d1", new Stat()));
    t("setACL /d1 auth", () -> zk.setACL("/d1", ZooDefs.Ids.CREATOR_ALL_ACL, -1));
    ZooKeeper zk2 = connect(hp);
    t("zk2 getData /d1", () -> zk2.getData("/d1", false, null));
    t("zk2 setData /d1", () -> zk2.setData("/d1", new byte[0], -1));
    zk2.addAuthInfo("digest", "u:p".getBytes());
    t("zk2 setData /d1 after auth", () -> zk2.setData("/d1", new byte[0], -1));
    t("zk2 multi ephemeral then close: create /p/e2", () -> zk2.create("/p/e2", new byte[0], open, CreateMode.EPHEMERAL_SEQUENTIAL));
    t("stat /p before zk2 close", () -> zk.exists("/p", false));
    zk2.close();
    t("stat /p after zk2 close", () -> zk.exists("/p", false));
    t("getEphemerals", () -> zk.getEphemerals());
    t("getEphemerals /p", () -> zk.getEphemerals("/p"));
    t("getEphemerals /p/", () -> zk.getEphemerals("/p/"));
    t("getEphemerals /x", () -> zk.getEphemerals("/x"));
    // data size
    t("create 1MiB data", () -> { zk.create("/big", new byte[1048576], open, CreateMode.PERSISTENT); return "ok"; });
    zk.close();
  }
}
