package dev.ivkit.report;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One method of results.json: per-seed metrics, accuracy matrices and IV-dynamics entries. */
final class StudyMethod {
    record DynPoint(String seed, int stage, int task_index, String task, double cosine, double accuracy,
            double jaccard, double regained, double knowledge, double instruction) {}

    final String name;
    final Map<String, Map<String, Double>> seeds = new LinkedHashMap<>();  // seed -> AP/BWT/FWT
    final List<double[][]> matrices = new ArrayList<>();
    final List<DynPoint> dynamics = new ArrayList<>();
    final Map<String, double[]> summary = new LinkedHashMap<>();  // metric -> mean, std

    private StudyMethod(String name) {
        this.name = name;
    }

    static StudyMethod read(Path f, String name, JsonElement el) {
        String p = "methods." + name;
        if (!el.isJsonObject()) {
            throw new ReportException(f, p, "expected an object");
        }
        JsonObject o = el.getAsJsonObject();
        StudyMethod m = new StudyMethod(name);
        JsonObject seeds = Json.obj(f, o, "seeds", p);
        if (seeds != null) {
            for (Map.Entry<String, JsonElement> s : seeds.entrySet()) {
                String sp = p + ".seeds." + s.getKey();
                if (!s.getValue().isJsonObject()) {
                    throw new ReportException(f, sp, "expected an object");
                }
                JsonObject so = s.getValue().getAsJsonObject();
                Map<String, Double> met = new LinkedHashMap<>();
                for (String k : List.of("AP", "BWT", "FWT")) {
                    if (Json.has(so, k)) {
                        met.put(k, Json.num(f, so.get(k), Json.path(sp, k)));
                    }
                }
                m.seeds.put(s.getKey(), met);
                double[][] mat = Json.matrix(f, so, "accuracy_matrix", sp);
                if (mat != null && mat.length > 0) {
                    m.matrices.add(mat);
                }
                JsonArray dyn = Json.arr(f, so, "iv_dynamics", sp);
                if (dyn != null) {
                    m.readDynamics(f, s.getKey(), dyn, sp + ".iv_dynamics");
                }
            }
        }
        JsonObject sum = Json.obj(f, o, "summary", p);
        if (sum != null) {
            for (String k : List.of("AP", "BWT", "FWT")) {
                JsonObject ko = Json.obj(f, sum, k, p + ".summary");
                if (ko != null) {
                    Double mean = Json.num(f, ko, "mean", p + ".summary." + k);
                    Double sd = Json.num(f, ko, "std", p + ".summary." + k);
                    m.summary.put(k, new double[] {mean == null ? Double.NaN : mean, sd == null ? Double.NaN : sd});
                }
            }
        }
        return m;
    }

    private void readDynamics(Path f, String seed, JsonArray stages, String p) {
        for (int k = 0; k < stages.size(); k++) {
            JsonElement st = stages.get(k);
            if (st.isJsonNull()) {
                continue;
            }
            if (!st.isJsonArray()) {
                throw new ReportException(f, p + "[" + k + "]", "expected an array of per-task entries");
            }
            JsonArray a = st.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                String ep = p + "[" + k + "][" + i + "]";
                JsonObject e = Json.element(f, a, i, p + "[" + k + "]");
                Double ti = Json.num(f, e, "task_index", ep);
                JsonObject rec = Json.obj(f, e, "recovery", ep);
                JsonObject kn = Json.obj(f, e, "knowledge", ep);
                dynamics.add(new DynPoint(seed, k, ti == null ? i : (int) Math.round(ti), Labels.orDash(Json.str(f, e, "task", ep)),
                        Json.nan(Json.num(f, e, "iv_cosine", ep)), Json.nan(Json.num(f, e, "accuracy", ep)),
                        Json.nan(Json.num(f, e, "head_jaccard", ep)),
                        rec == null ? Double.NaN : Json.nan(Json.num(f, rec, "share_regained", ep + ".recovery")),
                        kn == null ? Double.NaN : Json.nan(Json.num(f, kn, "knowledge_p", ep + ".knowledge")),
                        kn == null ? Double.NaN : Json.nan(Json.num(f, kn, "instruction_p", ep + ".knowledge"))));
            }
        }
    }

    /** The metric over seeds (finite values only). */
    double[] metric(String k) {
        return seeds.values().stream().map(m -> m.get(k)).filter(v -> v != null && Double.isFinite(v))
                .mapToDouble(Double::doubleValue).toArray();
    }

    double summaryMean(String k) {
        return summary.containsKey(k) ? summary.get(k)[0] : Double.NaN;
    }

    double summarySd(String k) {
        return summary.containsKey(k) ? summary.get(k)[1] : Double.NaN;
    }

    int matrixCount() {
        return matrices.size();
    }

    /** Element-wise mean of the seeds' matrices (NaN where no seed has a value); null when none. */
    double[][] meanMatrix() {
        if (matrices.isEmpty()) {
            return null;
        }
        int rows = 0, cols = 0;
        for (double[][] m : matrices) {
            rows = Math.max(rows, m.length);
            cols = Math.max(cols, Stats.width(m));
        }
        double[][] out = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                int n = 0;
                for (double[][] m : matrices) {
                    if (i < m.length && j < m[i].length && Double.isFinite(m[i][j])) {
                        s += m[i][j];
                        n++;
                    }
                }
                out[i][j] = n == 0 ? Double.NaN : s / n;
            }
        }
        return out;
    }

    /** Per task, per seed: knowledge and instruction probabilities at that seed's last stage. */
    Map<String, double[][]> finalKnowledge() {
        Map<String, Integer> lastStage = new LinkedHashMap<>();
        for (DynPoint p : dynamics) {
            lastStage.merge(p.seed(), p.stage(), Math::max);
        }
        Map<String, List<double[]>> acc = new LinkedHashMap<>();
        for (DynPoint p : dynamics) {
            if (p.stage() == lastStage.get(p.seed()) && (Double.isFinite(p.knowledge()) || Double.isFinite(p.instruction()))) {
                acc.computeIfAbsent(p.task(), t -> new ArrayList<>()).add(new double[] {p.knowledge(), p.instruction()});
            }
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        acc.forEach((t, l) -> out.put(t, l.toArray(new double[0][])));
        return out;
    }
}
