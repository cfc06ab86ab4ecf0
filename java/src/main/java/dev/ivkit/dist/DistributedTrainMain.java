package dev.ivkit.dist;

import dev.ivkit.train.GradientSync;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.data.prompt.TokenizedPrompt;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.LoraAdapter;
import dev.ivkit.model.LoraConfig;
import dev.ivkit.model.ModelLoader;
import dev.ivkit.train.TrainConfig;
import dev.ivkit.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * LoRA training, one process or data-parallel, on pre-tokenized examples (JSON lines {@code {"prompt": [ids],
 * "target": [ids]}}, see {@link #writeIds}). Until {@code ivkit train} takes these options, this is the launcher:
 * <ul>
 *   <li>no {@code --nproc}: trains in this process;
 *   <li>{@code --nproc N} [{@code --nnodes M --node-rank K}] {@code --master-addr A --master-port P}: starts N worker
 *       JVMs of this class on this node ({@link Launcher}); rank 0's node hosts the store, so run the node-rank-0
 *       launcher first or within the timeout; on one node the address defaults to 127.0.0.1 and the port to a free one;
 *   <li>the workers see the rank in their environment ({@link DistConfig#fromEnv}) and train with a
 *       {@link ProcessGroup}.
 * </ul>
 * {@code --batch} is the micro-batch of each process.
 */
@Command(name = "train-dist", mixinStandardHelpOptions = true, description = "LoRA training, data-parallel over N JVMs.")
public final class DistributedTrainMain implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "llama2.c checkpoint (.bin) or HF folder")
    Path model;

    @Option(names = "--data", required = true, description = "training examples, JSON lines of token ids")
    Path data;

    @Option(names = "--out", required = true, description = "output folder (rank 0 writes it)")
    Path out;

    @Option(names = "--lr", defaultValue = "1e-4") double lr;
    @Option(names = "--epochs", defaultValue = "1") int epochs;
    @Option(names = "--batch", defaultValue = "4", description = "micro-batch per process") int batch;
    @Option(names = "--accum", defaultValue = "1") int accum;
    @Option(names = "--clip", defaultValue = "1.0") double clip;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "50") int checkpointEvery;
    @Option(names = "--lora-rank", defaultValue = "8") int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "16") double loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0") double loraDropout;
    @Option(names = "--targets", defaultValue = "q_proj,v_proj", split = ",") List<String> targets;
    @Option(names = "--adapter-seed", defaultValue = "1") long adapterSeed;
    @Option(names = "--resume", description = "continue from OUT/checkpoints (same --nproc × --nnodes)") boolean resume;

    @Option(names = "--nproc", description = "worker processes on this node") Integer nproc;
    @Option(names = "--nnodes", defaultValue = "1") int nnodes;
    @Option(names = "--node-rank", defaultValue = "0") int nodeRank;
    @Option(names = "--master-addr", defaultValue = "127.0.0.1") String masterAddr;
    @Option(names = "--master-port", description = "default: a free port (one node only)") Integer masterPort;
    @Option(names = "--timeout-s", defaultValue = "300", description = "rendezvous and collective timeout") double timeoutS;

    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", "true");
        System.exit(new CommandLine(new DistributedTrainMain()).execute(args));
    }

    @Override
    public Integer call() {
        if (DistConfig.inEnv(System.getenv())) {
            DistConfig dc = DistConfig.fromEnv(System.getenv());
            try (ProcessGroup pg = ProcessGroup.init(dc)) {
                train(pg);
            }
            return 0;
        }
        if (nproc == null) {
            train(null);
            return 0;
        }
        if (nnodes > 1 && masterPort == null) {
            throw new InvalidArgumentException("master-port", "several nodes need an agreed --master-port");
        }
        int port = masterPort != null ? masterPort : Launcher.freePort(masterAddr);
        Launcher.Spec spec = new Launcher.Spec(nproc, nnodes, nodeRank, masterAddr, port,
                Duration.ofMillis((long) (timeoutS * 1000)), Launcher.inheritedJvmArgs(), null);
        List<String> args = new ArrayList<>(Arrays.asList(new CommandLine(this).getParseResult().originalArgs().toArray(String[]::new)));
        return Launcher.run(spec, DistributedTrainMain.class.getName(), args);
    }

    private void train(GradientSync sync) {
        TrainConfig cfg = TrainConfig.defaults().withLr(lr).withEpochs(epochs).withBatch(batch, accum).withSeed(seed)
                .withCheckpointEvery(checkpointEvery).withClip(clip);
        List<TokenizedPrompt> examples = readIds(data);
        try (PointerScope scope = new PointerScope(); LlamaModel m = ModelLoader.load(model, null);
             LoraAdapter a = LoraAdapter.create(m.config(), new LoraConfig(loraRank, loraAlpha, loraDropout, targets), adapterSeed)) {
            String fp = String.join(" ", "lr", Double.toString(lr), "epochs", Integer.toString(epochs), "batch",
                    Integer.toString(batch), "accum", Integer.toString(accum), "seed", Long.toString(seed), "lora",
                    Integer.toString(loraRank), Double.toString(loraAlpha), Double.toString(loraDropout), targets.toString(),
                    Long.toString(adapterSeed), data.getFileName().toString());
            Trainer t = new Trainer(m, cfg, null, out).argsFingerprint(fp).distributed(sync);
            Trainer.Result r = t.train(a, examples, null, resume);
            if (sync == null || sync.rank() == 0) {
                System.err.println("train-dist: " + r.steps() + " steps, adapter in " + r.adapterDir());
            }
        }
    }

    /** Writes examples as JSON lines {"prompt": [...], "target": [...]}. */
    public static void writeIds(Path file, List<TokenizedPrompt> examples) {
        StringBuilder sb = new StringBuilder();
        Gson gson = new Gson();
        for (TokenizedPrompt p : examples) {
            JsonObject o = new JsonObject();
            o.add("prompt", gson.toJsonTree(p.promptIds()));
            o.add("target", gson.toJsonTree(p.targetIds()));
            sb.append(gson.toJson(o)).append('\n');
        }
        try {
            Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidArgumentException("data", "cannot write " + file + ": " + e.getMessage());
        }
    }

    /** Reads what {@link #writeIds} wrote. */
    public static List<TokenizedPrompt> readIds(Path file) {
        List<TokenizedPrompt> out = new ArrayList<>();
        try {
            int line = 0;
            for (String s : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                line++;
                if (s.isBlank()) {
                    continue;
                }
                try {
                    JsonObject o = JsonParser.parseString(s).getAsJsonObject();
                    out.add(new TokenizedPrompt(ints(o.getAsJsonArray("prompt")), ints(o.getAsJsonArray("target"))));
                } catch (RuntimeException e) {
                    throw new InvalidArgumentException("data", file + " line " + line + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new InvalidArgumentException("data", "cannot read " + file + ": " + e.getMessage());
        }
        return out;
    }

    private static int[] ints(JsonArray a) {
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).getAsInt();
        }
        return v;
    }
}
