package dev.ivkit.continual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.InvalidArgumentException;
import dev.ivkit.MatmulPrecision;
import dev.ivkit.train.IvGuidedRegulariser;
import org.junit.jupiter.api.Test;

/**
 * A sequence spec's {@code hyper.reference_cache} / {@code reference_precision}: they reach the continual runner's
 * regularisers, bad values are refused at parse time naming the field, and a spec without them keeps its JSON (so a
 * run started before these fields existed keeps its fingerprint and resumes).
 */
class SequenceSpecReferenceTest {
    @Test
    void referenceSettingsReachTheRegularisersAndBadOnesAreRefused() {
        SequenceSpec plain = SequenceSpec.builtin("seq1");
        assertFalse(plain.toJson().contains("reference_"), "unset: not in the JSON");
        RegulariserFactory def = plain.hyper.regularisers();
        assertEquals(0, def.referenceCacheTopK());
        assertEquals(MatmulPrecision.FULL, def.referencePrecision());

        SequenceSpec cached = SequenceSpec.parse(plain.toJson().replace("\"hyper\": {",
                "\"hyper\": {\n    \"reference_cache\": \"64\",\n    \"reference_precision\": \"reduced\","), "test");
        assertEquals(64, cached.hyper.regularisers().referenceCacheTopK());
        assertEquals(MatmulPrecision.REDUCED, cached.hyper.regularisers().referencePrecision());
        SequenceSpec exact = SequenceSpec.parse(plain.toJson().replace("\"hyper\": {",
                "\"hyper\": {\n    \"reference_cache\": \"exact\","), "test");
        assertEquals(IvGuidedRegulariser.EXACT_CACHE, exact.hyper.regularisers().referenceCacheTopK());

        for (String bad : new String[] {"\"reference_cache\": \"-2\",", "\"reference_cache\": \"some\",",
                "\"reference_precision\": \"half\","}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> SequenceSpec.parse(plain.toJson().replace("\"hyper\": {", "\"hyper\": {\n    " + bad), "test"));
            assertTrue(e.getMessage().contains("hyper.reference_"), e.getMessage());
        }
    }
}
