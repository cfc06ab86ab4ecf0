package dev.ivkit.cli;

import com.google.gson.JsonObject;
import dev.ivkit.InvalidArgumentException;
import dev.ivkit.ModelFormatException;
import dev.ivkit.iv.HeadRanking;
import dev.ivkit.iv.InstructionVector;
import dev.ivkit.iv.ScanScores;
import dev.ivkit.model.LlamaModel;
import dev.ivkit.model.ModelFingerprint;
import dev.ivkit.model.io.Safetensors;
import dev.ivkit.model.io.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ivkit extract}: the instruction vector of a scan. Heads: the top {@code --heads} of the scan's scores
 * ({@code --rank prob}: mean Δ probability, Todd; {@code nll}: largest mean NLL decrease, the IV authors'
 * {@code --gen}); with {@code --universal A,B,…} the ranking uses those scans' scores summed (Todd's universal
 * heads) while mean z still comes from {@code --scan}. The vector's layer (stored in its metadata, used by
 * {@code evaluate}) defaults to nLayers / 3 (Todd's GPT-J edit layer 9 of 28).
 */
@Command(name = "extract", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Build an instruction vector from a scan's mean activations and top heads.")
final class ExtractCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--scan", required = true, description = "folder written by ivkit scan")
    Path scan;

    @Option(names = "--heads", defaultValue = "10", description = "number of heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--rank", defaultValue = "prob", description = "prob or nll (default: ${DEFAULT-VALUE})")
    String rank;

    @Option(names = "--layer", description = "layer the vector is meant for (default: layers / 3)")
    Integer layer;

    @Option(names = "--universal", split = ",", description = "scan folders whose scores are summed to rank heads")
    List<Path> universal;

    @Option(names = "--out", required = true, description = "output folder (iv.safetensors, iv.json)")
    Path out;

    @Override
    public Integer call() {
        HeadRanking.By by = ScanCommand.parse(HeadRanking.By.class, "rank", rank);
        try (dev.ivkit.pipeline.ModelFiles.Opened loaded = modelOptions.open(); PointerScope scope = new PointerScope()) {
            LlamaModel model = loaded.model();
            var c = model.config();
            int l = layer != null ? layer : c.nLayers() / 3;
            if (l < 0 || l >= c.nLayers()) {
                throw new InvalidArgumentException("layer", l + " is out of range [0, " + c.nLayers() + ")");
            }
            String fingerprint = ModelFingerprint.of(model);
            JsonObject main = readScan(scan, fingerprint);
            double[][] scores;
            if (universal == null || universal.isEmpty()) {
                scores = rankingScores(scan, main, by);
            } else {
                List<double[][]> all = new ArrayList<>();
                for (Path u : universal) {
                    all.add(rankingScores(u, readScan(u, fingerprint), by));
                }
                scores = HeadRanking.sum(all);
            }
            if (scores.length != c.nLayers() || scores[0].length != c.nHeads()) {
                throw new ModelFormatException(scan.resolve(ScanCommand.SCAN), "cie", "scores are " + scores.length + " × "
                        + scores[0].length + ", the model has " + c.nLayers() + " × " + c.nHeads() + " heads");
            }
            List<HeadRanking.Head> top = HeadRanking.top(scores, heads);
            Tensor meanZ = readMeanZ(scan.resolve(ScanCommand.MEAN_Z));
            Map<String, Object> meta = new LinkedHashMap<>();
            for (String k : new String[] {"task", "shots", "scan_shots", "corrupt", "prompt_format", "prompts", "method",
                    "mode", "seed"}) {
                if (main.has(k)) {
                    meta.put(k, plain(main.get(k)));
                }
            }
            meta.put("layer", l);
            meta.put("rank", ScanCommand.lower(by));
            meta.put("scan", scan.toString());
            if (universal != null && !universal.isEmpty()) {
                meta.put("universal", universal.stream().map(Path::toString).toList());
            }
            meta.put("ivkit_version", new Main.Version().getVersion()[0]);
            try (InstructionVector iv = InstructionVector.build(model, meanZ, scores, top, meta)) {
                iv.save(out);
            }
            StringBuilder sb = new StringBuilder();
            for (HeadRanking.Head h : top) {
                sb.append(sb.length() == 0 ? "" : " ").append('(').append(h.layer()).append(',').append(h.head()).append(')');
            }
            System.out.println("extract: " + top.size() + " heads " + sb + ", layer " + l + "; wrote " + out);
            return 0;
        }
    }

    /** A JSON primitive as a String, Long (integral numbers stay integral in iv.json) or Double. */
    private static Object plain(com.google.gson.JsonElement e) {
        var p = e.getAsJsonPrimitive();
        if (!p.isNumber()) {
            return p.isBoolean() ? p.getAsBoolean() : p.getAsString();
        }
        String s = p.getAsString();
        return s.matches("-?\\d+") ? (Object) p.getAsLong() : (Object) p.getAsDouble();
    }

    /** scan.json of a folder, checked to come from this model. */
    static JsonObject readScan(Path dir, String modelFingerprint) {
        Path f = dir.resolve(ScanCommand.SCAN);
        if (!Files.isRegularFile(f)) {
            throw new ModelFormatException(f, null, "no finished scan here (run or resume ivkit scan first)");
        }
        JsonObject o = JsonFiles.readObject(f);
        String fp = o.has("model_fingerprint") ? o.get("model_fingerprint").getAsString() : null;
        if (!modelFingerprint.equals(fp)) {
            throw new ModelFormatException(f, "model_fingerprint", "scan was made on model " + fp
                    + ", not on this one (" + modelFingerprint + ")");
        }
        return o;
    }

    /** Mean Δprob, or −mean ΔNLL, of a scan ({@link HeadRanking#scores} of its mean maps). */
    static double[][] rankingScores(Path dir, JsonObject scan, HeadRanking.By by) {
        Path f = dir.resolve(ScanCommand.SCAN);
        double[][] cie = JsonFiles.matrix(f, scan, "cie"), nll = JsonFiles.matrix(f, scan, "nll_delta");
        ScanScores means = new ScanScores(new double[][][] {cie}, new double[][][] {nll}, new double[1], new double[1]);
        return HeadRanking.scores(means, by);
    }

    static Tensor readMeanZ(Path f) {
        if (!Files.isRegularFile(f)) {
            throw new ModelFormatException(f, null, "mean activations are missing");
        }
        try (SafetensorsFile sf = Safetensors.open(f)) {
            if (!sf.contains("mean_z")) {
                throw new ModelFormatException(f, "mean_z", "tensor is missing");
            }
            return sf.read("mean_z");
        }
    }
}
