import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;
import java.util.*;
public class Probe2 {
  public static void main(String[] args) throws Exception {
    ZooKeeper zk = Probe.connect(args[0]);
    List<ACL> open = ZooDefs.Ids.OPEN_ACL_UNSAFE;
    zk.create("/c-never", new byte[0], open, CreateMode.CONTAINER);
    zk.create("/c-used", new byte[0], open, CreateMode.CONTAINER);
    zk.create("/c-used/x", new byte[0], open, CreateMode.PERSISTENT);
    zk.delete("/c-used/x", -1);
    zk.create("/c-full", new byte[0], open, CreateMode.CONTAINER);
    zk.create("/c-full/x", new byte[0], open, CreateMode.PERSISTENT);
    zk.create("/c-nested", new byte[0], open, CreateMode.CONTAINER);
    zk.create("/c-nested/inner", new byte[0], open, CreateMode.CONTAINER);
    zk.create("/c-nested/inner/x", new byte[0], open, CreateMode.PERSISTENT);
    zk.delete("/c-nested/inner/x", -1);
    Stat s = new Stat();
    zk.create("/ttl-idle", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 1500);
    zk.create("/ttl-child", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 1500);
    zk.create("/ttl-child/x", new byte[0], open, CreateMode.PERSISTENT);
    zk.create("/ttl-touched", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 3000);
    zk.create("/ttl-longgone", new byte[0], open, CreateMode.PERSISTENT_WITH_TTL, s, 100000);
    Probe.t("stat /c-used (cversion after child create+delete)", () -> zk.exists("/c-used", false));
    for (int i = 0; i < 8; i++) {
      Thread.sleep(1000);
      if (i < 5) zk.setData("/ttl-touched", new byte[0], -1);
      StringBuilder b = new StringBuilder("t=" + (i + 1) + "s:");
      for (String p : new String[]{"/c-never", "/c-used", "/c-full", "/c-nested", "/c-nested/inner", "/ttl-idle", "/ttl-child", "/ttl-touched", "/ttl-longgone"})
        b.append(" " + p + "=" + (zk.exists(p, false) != null ? "present" : "gone"));
      System.out.println(b);
    }
    zk.close();
  }
}
