package dev.ivkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The task part shared by the option builders, and what TrainOptions keeps from before its split. */
class TaskSpecTest {
    private static final Path TASK = Path.of("antonym.json");

    @Test
    void bothBuildersSetTheTaskTheSameWay() {
        TaskSpec want = new TaskSpec(TASK, "dev", Path.of("instructions.json"), PromptFormat.IO, 7);
        TrainOptions t = TrainOptions.builder(TASK).split("dev").instructions(Path.of("instructions.json"))
                .format(PromptFormat.IO).seed(7).steps(3).build();
        ExtractOptions e = ExtractOptions.builder(TASK).split("dev").instructions(Path.of("instructions.json"))
                .format(PromptFormat.IO).seed(7).shots(3).build();
        assertEquals(want, t.taskSpec());
        assertEquals(Integer.valueOf(3), t.steps(), "a task setter returns the concrete builder");
        assertEquals(List.of(TASK, "dev", Path.of("instructions.json"), PromptFormat.IO, 7L),
                List.of(e.task(), e.split, e.instructions, e.format(), e.seed()));
        assertEquals(3, e.shots());
        EvaluateOptions v = EvaluateOptions.builder(TASK).split("dev").instructions(Path.of("instructions.json"))
                .format(PromptFormat.IO).seed(7).ivDir(TASK).prompts(3).shots(2).build();
        ProbeOptions p = ProbeOptions.builder(TASK).split("dev").instructions(Path.of("instructions.json"))
                .format(PromptFormat.IO).seed(7).prompts(4).shots(0).build();
        assertEquals(List.of(want, want), List.of(v.spec, p.spec), "evaluate and probe set the task the same way");
        assertEquals(List.of(3, 2, 4, 0), List.of(v.prompts(), v.shots(), p.prompts(), p.shots()));
        assertEquals(List.of(50, 0, 50, 5), List.of(EvaluateOptions.builder(TASK).ivDir(TASK).build().prompts(),
                EvaluateOptions.builder(TASK).ivDir(TASK).build().shots(), ProbeOptions.builder(TASK).build().prompts(),
                ProbeOptions.builder(TASK).build().shots()), "defaults: ivkit evaluate's and ivkit probe's");
        assertEquals(new TaskSpec(TASK, "train", null, PromptFormat.QA, 42), TrainOptions.builder(TASK).build().taskSpec(),
                "defaults: train split, the folder's instructions, QA, seed 42");
        assertEquals("task", assertThrows(InvalidArgumentException.class, () -> TrainOptions.builder(null)).field());
        assertEquals("task", assertThrows(InvalidArgumentException.class, () -> ExtractOptions.builder(null)).field());
        assertEquals("task", assertThrows(InvalidArgumentException.class, () -> EvaluateOptions.builder(null)).field());
        assertEquals("task", assertThrows(InvalidArgumentException.class, () -> ProbeOptions.builder(null)).field());
    }

    @Test
    void ivGuidanceAndLoraAreCheckedWhenBuilt() {
        assertEquals("iv", assertThrows(InvalidArgumentException.class,
                () -> TrainOptions.builder(TASK).alphaPr(2).build()).field());
        assertEquals("rank", assertThrows(InvalidArgumentException.class,
                () -> TrainOptions.builder(TASK).loraRank(0).build()).field());
        assertEquals("targets", assertThrows(InvalidArgumentException.class,
                () -> TrainOptions.builder(TASK).loraTargets(List.of("qproj")).build()).field());
        TrainOptions plain = TrainOptions.builder(TASK).ivSite(TrainOptions.IvSite.RESID_MID).temperature(3).build();
        assertFalse(plain.ivGuided());
        assertEquals(TrainOptions.IvSite.RESID_MID, plain.ivGuidance().site());
        assertEquals(3.0, plain.ivGuidance().temperature(), 0.0);
    }

    @Test
    void resumeFingerprintIsTheOneEarlierCheckpointsRecorded() {
        // the settings string of the defaults as TrainOptions built it before the task and IV parts were split off:
        // a checkpoint written then still resumes
        assertEquals("antonym.json|train|null|qa|true|42|no-iv|null|ATTN_OUT|RAMP|null|null|null|2.0|REVERSE|false|8|16.0|"
                + "0.1|[q_proj, v_proj]|null|1|4|2|1.0E-4|CONSTANT|0|1.0|0.0|null|50|0|50",
                FacadeTraining.fingerprintText(TrainOptions.builder(TASK).build()));
        assertEquals("antonym.json|dev|null|io|false|7|no-iv|null|ATTN_OUT|RAMP|null|null|null|2.0|FORWARD|true|4|8.0|"
                + "0.0|[q_proj]|20|1|2|3|0.01|COSINE|5|0.5|0.1|64|10|2|9",
                FacadeTraining.fingerprintText(TrainOptions.builder(TASK).split("dev").format(PromptFormat.IO)
                        .instructionTemplate(false).seed(7).klDirection(TrainOptions.Kl.FORWARD).gates(true).loraRank(4)
                        .loraAlpha(8).loraDropout(0).loraTargets(List.of("q_proj")).steps(20).batch(2).gradAccum(3)
                        .lr(0.01).schedule(TrainOptions.Schedule.COSINE).warmup(5).clip(0.5).weightDecay(0.1)
                        .maxSamples(64).evalSamples(10).evalEvery(2).checkpointEvery(9).build()));
    }
}
