import JSON
import Testing

@testable import Jinja

/// Feature families rendered against jinja2's own output (see `FeatureCases`).
@Suite struct FeatureTests {
    func check(_ cases: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(FeatureCases.context.count == 8, "context JSON parsed")
        for (source, expected) in cases {
            do {
                let got = try Template(source).render(FeatureCases.context)
                #expect(got == expected, "template: \(source)", sourceLocation: sourceLocation)
            } catch {
                Issue.record("template \(source) threw \(error)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func whitespaceControl() { check(FeatureCases.whitespace) }
    @Test func expressionsAndOperators() { check(FeatureCases.expressions) }
    @Test func pythonPrinting() { check(FeatureCases.printing) }
    @Test func slicingAndSubscripts() { check(FeatureCases.slicing) }
    @Test func controlFlowAndLoops() { check(FeatureCases.control) }
    @Test func assignmentAndScoping() { check(FeatureCases.assignment) }
    @Test func macrosAndCallBlocks() { check(FeatureCases.macros) }
    @Test func filters() { check(FeatureCases.filters) }
    @Test func tests() { check(FeatureCases.tests) }
    @Test func pythonMethods() { check(FeatureCases.methods) }
    @Test func tojsonMatchesPythonJSONDumps() { check(FeatureCases.tojson) }

    @Test func generationAndBlockRenderTheirBody() throws {
        #expect(try render("{% generation %}tracked {{ n }}{% endgeneration %}|{% block b %}in block{% endblock %}", ["n": .int(7)]) == "tracked 7|in block")
    }

    @Test func compiledTemplateRendersManyTimes() throws {
        let t = try Template("{{ greeting }}, {{ name | default('world') }}!")
        #expect(try t.render(["greeting": .string("Hi")]) == "Hi, world!")
        #expect(try t.render(["greeting": .string("Yo"), "name": .string("Ann")]) == "Yo, Ann!")
    }

    @Test func strftimeNowFormatsTheCurrentDate() throws {
        let year = try render("{{ strftime_now('%Y') }}")
        #expect(year.count == 4 && Int(year) != nil && Int(year)! >= 2024)
        #expect(try render("{{ strftime_now('%d %b %Y') }}").split(separator: " ").count == 3)
        #expect(try render("{{ strftime_now is defined }}") == "True")
    }

    @Test func valueFromJSONKeepsKeyOrderAndTypes() throws {
        let v = Value(json: try JSONValue.parse(#"{"z": 1, "a": [1.5, "x", null, false]}"#))
        #expect(try render("{{ v }}|{{ v | tojson }}", ["v": v]) == "{'z': 1, 'a': [1.5, 'x', None, False]}|{\"z\": 1, \"a\": [1.5, \"x\", null, false]}")
    }
}
