package dev.ivkit.dist;

import com.google.gson.Gson;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.iv.CieScan;
import dev.ivkit.iv.ScanMethod;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.PatchMode;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A worker JVM of {@link DistributedTest}: data-parallel mean z and exact scan; rank 0 writes them to args[0]. With
 * a second argument {@code die}, rank 1 leaves right after joining (a dead peer).
 */
public final class DistIvWorker {
    static final int MEAN_PROMPTS = 10, MEAN_BATCH = 3, SCAN_PROMPTS = 5;

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        try (ProcessGroup pg = ProcessGroup.init(DistConfig.fromEnv(System.getenv()));
             Tokenizer tok = DistributedTest.tok(); LlamaModel m = DistributedTest.model()) {
            if (args.length > 1 && args[1].equals("die") && pg.rank() == 1) {
                System.exit(0);
            }
            List<TokenizedPrompt> prompts = DistributedTest.prompts(tok);
            Tensor meanZ = DistributedIv.meanActivations(pg, m, prompts, MEAN_BATCH);
            ScanScores s = DistributedIv.scan(pg, new CieScan(m, meanZ, PatchMode.ADD), prompts.subList(0, SCAN_PROMPTS),
                    ScanMethod.EXACT, null);
            if (pg.rank() == 0) {
                Files.createDirectories(out);
                Map<String, Tensor> t = new LinkedHashMap<>();
                t.put("mean_z", meanZ);
                Safetensors.write(out.resolve("mean_z.safetensors"), new LinkedHashMap<>(t), Map.of());
                Files.writeString(out.resolve("scan.json"), new Gson().toJson(s));
            }
            pg.barrier();
        }
        System.exit(0);
    }
}
