package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
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

    /** The report's view of method {@code name} of a results file. */
    static StudyMethod of(String name, ResultsFile.MethodResults mr) {
        StudyMethod m = new StudyMethod(name);
        if (mr == null) {
            return m;
        }
        if (mr.seeds() != null) {
            for (Map.Entry<String, ResultsFile.SeedResults> s : mr.seeds().entrySet()) {
                ResultsFile.SeedResults sr = s.getValue();
                Map<String, Double> met = new LinkedHashMap<>();
                if (sr != null) {
                    putIf(met, "AP", sr.ap());
                    putIf(met, "BWT", sr.bwt());
                    putIf(met, "FWT", sr.fwt());
                }
                m.seeds.put(s.getKey(), met);
                if (sr == null) {
                    continue;
                }
                if (sr.accuracyMatrix() != null && sr.accuracyMatrix().length > 0) {
                    m.matrices.add(sr.accuracyMatrix());
                }
                List<List<ResultsFile.DynamicsEntry>> dyn = sr.dynamics();
                if (dyn != null) {
                    m.addDynamics(s.getKey(), dyn);
                }
            }
        }
        if (mr.summary() != null) {
            for (String k : List.of("AP", "BWT", "FWT")) {
                Spread sp = mr.summary().get(k);
                if (sp != null) {
                    m.summary.put(k, new double[] {sp.meanOrNaN(), sp.stdOrNaN()});
                }
            }
        }
        return m;
    }

    private static void putIf(Map<String, Double> met, String k, Double v) {
        if (v != null) {
            met.put(k, v);
        }
    }

    private void addDynamics(String seed, List<List<ResultsFile.DynamicsEntry>> stages) {
        for (int k = 0; k < stages.size(); k++) {
            List<ResultsFile.DynamicsEntry> a = stages.get(k);
            if (a == null) {
                continue;
            }
            for (int i = 0; i < a.size(); i++) {
                ResultsFile.DynamicsEntry e = a.get(i);
                ResultsFile.Recovery rec = e.recovery();
                ResultsFile.Knowledge kn = e.knowledge();
                dynamics.add(new DynPoint(seed, k, e.taskIndex() == null ? i : e.taskIndex(), Labels.orDash(e.task()),
                        Stats.nan(e.ivCosine()), Stats.nan(e.accuracy()), Stats.nan(e.headJaccard()),
                        rec == null ? Double.NaN : Stats.nan(rec.shareRegained()),
                        kn == null ? Double.NaN : Stats.nan(kn.knowledgeP()),
                        kn == null ? Double.NaN : Stats.nan(kn.instructionP())));
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
