"""Synthetic knowledge base for benchmarks/compile_scale.py, written straight into a Syllabus store.

Shape (defaults: the paper's released knowledge base): N concepts, R relations and H chains over
D disciplines, split evenly between disciplines.

* Per discipline an ``is_a`` taxonomy: one root and a breadth-first tree with 5-8 children per
  node. ``is_a`` edges take 80% of the relation budget (capped at concepts - disciplines), so with
  the defaults 160,000 ``is_a`` edges and 40,000 other relations; concepts outside the tree are
  detached terms (no parent) that still take part in the other relations.
* Every concept: ontology origin, active, a ``type``, a unique multi-word preferred label (label
  row ``pref`` too), a 12-25 word definition ("A <parent label> that ..."), and about 30% one or
  two more labels (``alt`` or ``abbreviation``).
* Other relations: ``causes``, ``requires``, ``part_of`` (acyclic), ``has_property``,
  ``used_for`` between concepts of the same discipline; all relations asserted, ontology origin,
  confidence 1.0, ids from :func:`syllabus.store.ids.relation_id`.
* Evidence: one corpus document per discipline (also written under ``corpora/<discipline>/``),
  cut into chunks of about ten sentences; one ``syllabus.definition`` sentence per concept and one
  ``syllabus.relation`` sentence per non-``is_a`` relation, with chunk-relative char spans.
* Chains: ``transitive_is_a`` along 2 or 3 ``is_a`` hops upward, ``train`` for about 80%,
  ``bench`` for the rest; their ``relation_ids`` are the real relations in path order.

Everything is drawn from ``random.Random(seed)``, so the same arguments give the same store
content. Rows go in with ``sqlite3`` ``executemany`` after :func:`syllabus.store.open_store` has
migrated the empty database to head; the journal triggers of migration 0004 fire for every row,
as they would after a real import.
"""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

OTHER_PREDICATES = ("causes", "requires", "part_of", "has_property", "used_for")
VERB = {"causes": "causes", "requires": "requires", "part_of": "is part of", "has_property": "has the property",
        "used_for": "is used for"}
TYPES = ("class", "process", "quality", "material entity", "method", "phenomenon")
CHUNK_SENTENCES = 10

ADJECTIVES = """thermal kinetic cellular molecular structural dynamic static elastic plastic optical magnetic
electric nuclear atomic quantum classical statistical linear nonlinear radial axial polar ionic covalent
metabolic genetic neural vascular muscular skeletal renal hepatic cardiac pulmonary dermal epithelial
synaptic hormonal enzymatic catalytic oxidative reductive acidic basic aqueous gaseous solid liquid
crystalline amorphous porous dense sparse stable unstable transient steady periodic chaotic stochastic
adaptive innate acquired primary secondary tertiary lateral medial distal proximal dorsal ventral
inner outer upper lower central peripheral local global spectral temporal spatial harmonic acoustic
seismic tectonic volcanic marine coastal alpine arid tropical polar boreal fluvial glacial sedimentary
igneous metamorphic organic inorganic synthetic natural mineral viral bacterial fungal parasitic
immune inflammatory digital analog discrete continuous numerical symbolic logical formal empirical
economic fiscal monetary social cultural urban rural legal ethical clinical surgical diagnostic""".split()
NOUNS = """energy force field wave particle charge current potential pressure density flux tension
stress strain momentum inertia friction torque velocity acceleration orbit spin lattice bond ion
molecule protein enzyme receptor membrane channel gene sequence tissue organ cell nucleus vessel
neuron signal pathway cycle gradient layer boundary interface surface volume phase transition
equilibrium reaction catalyst compound solution mixture crystal mineral rock sediment basin plate
fault current ridge delta estuary climate front cloud storm model method measure index rate ratio
network graph system process mechanism structure function response regulation transport diffusion
absorption emission scattering resonance coupling feedback control pattern distribution variance
estimate sample population market price contract policy institution norm practice theory principle""".split()
VERBS = """regulates transports converts stores releases binds absorbs emits measures describes limits
reduces increases stabilises couples separates combines detects encodes transmits controls maintains
produces consumes shapes orients aligns disperses concentrates filters supports protects""".split()
PREPOSITIONS = "in within across between during under through along near around over by".split()
DETERMINERS = "the a each every some its one".split()
SYLLABLES = """ba be bi bo da de di do fa fe fi ga ge go ka ke ki ko la le li lo ma me mi mo na ne ni no
pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo za ze zi zo tra tre tri pro pre cro cri
ster stan mor vel nor bel dor gar lin min rin sin tin vin thal phor chro gen lux dyn""".split()
SUFFIXES = "ane ene ine ite ate ose ium ion oid yte ase ole ax ex on ar or al".split()


@dataclass
class Shape:
    concepts: int = 250_000
    relations: int = 200_000
    chains: int = 50_000
    disciplines: int = 16
    seed: int = 0


@dataclass
class Generated:
    """What the generator made, for the benchmark to report and to pick the concept it edits."""

    counts: dict = field(default_factory=dict)
    edit_candidates: list[str] = field(default_factory=list)  # mid-tree concepts with siblings, children, relations
    seconds: dict = field(default_factory=dict)


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def discipline_names(n: int) -> list[str]:
    return [f"d{i:02d}" for i in range(n)]


def write_config(root: Path, n_disciplines: int, seed: int) -> None:
    lines = ["# Synthetic workspace written by benchmarks/compile_scale.py", "[store]",
             'url = "sqlite:///.syllabus/store.db"', "", "[compile]", f"seed = {seed}", ""]
    for i, name in enumerate(discipline_names(n_disciplines)):
        lines += ["[[disciplines]]", f'name = "{name}"', f'prefix = "D{i:02d}"',
                  f'iri = "https://w3id.org/syllabus/bench/{name}/"', f'corpora = ["corpora/{name}"]', ""]
    (root / "syllabus.toml").write_text("\n".join(lines), encoding="utf-8")


class _Words:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        pseudo = set()
        while len(pseudo) < 4000:
            w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) + rng.choice(SUFFIXES)
            pseudo.add(w)
        self.pseudo = sorted(pseudo)
        self.used: set[str] = set()

    def label(self) -> str:
        rng = self.rng
        while True:
            n = rng.random()
            if n < 0.45:
                words = [rng.choice(ADJECTIVES), rng.choice(self.pseudo)]
            elif n < 0.8:
                words = [rng.choice(ADJECTIVES), rng.choice(self.pseudo), rng.choice(NOUNS)]
            else:
                words = [rng.choice(self.pseudo), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
            text = " ".join(words)
            if text not in self.used:
                self.used.add(text)
                return text

    def phrase(self) -> list[str]:
        rng = self.rng
        k = rng.random()
        if k < 0.35:
            return [rng.choice(DETERMINERS), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
        if k < 0.6:
            return [rng.choice(PREPOSITIONS), rng.choice(DETERMINERS), rng.choice(self.pseudo)]
        if k < 0.8:
            return ["and", rng.choice(VERBS), rng.choice(NOUNS)]
        return [rng.choice(PREPOSITIONS), rng.choice(ADJECTIVES), rng.choice(self.pseudo), rng.choice(NOUNS)]

    def words(self, head: list[str], lo: int, hi: int) -> str:
        target = self.rng.randint(lo, hi)
        words = list(head)
        while len(words) < target:
            words += self.phrase()
        return " ".join(words[:max(target, len(head) + 2)])


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def generate(root: Path, shape: Shape, *, progress=None) -> Generated:
    """Create the workspace at *root* (config, corpora, store) and fill the store. Returns facts about it."""
    from syllabus.store import open_store
    from syllabus.store.ids import relation_id

    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    write_config(root, shape.disciplines, shape.seed)
    db = root / ".syllabus" / "store.db"
    if db.exists():
        raise SystemExit(f"{db} exists; give an empty --workdir")
    store = open_store(f"sqlite:///{db}")  # an empty database is migrated to head
    store.close()
    rng = random.Random(shape.seed)
    words = _Words(rng)
    names = discipline_names(shape.disciplines)
    n_concepts = _split(shape.concepts, shape.disciplines)
    isa_total = min(shape.concepts - shape.disciplines, round(0.8 * shape.relations), shape.relations)
    n_isa = _split(isa_total, shape.disciplines)
    n_other = _split(shape.relations - isa_total, shape.disciplines)
    n_chain = _split(shape.chains, shape.disciplines)

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    con.execute("BEGIN")
    gen = Generated()
    totals = dict.fromkeys(("concepts", "labels", "relations", "is_a", "other_relations", "evidence", "chunks",
                            "documents", "chains", "train_chains"), 0)
    t_gen = t_ins = 0.0
    for d, name in enumerate(names):
        ta = time.perf_counter()
        prefix = f"D{d:02d}"
        source = f"ontologies/{name}.obo"
        con.execute("INSERT INTO discipline(name, prefix, iri) VALUES (?, ?, ?)",
                    (name, prefix, f"https://w3id.org/syllabus/bench/{name}/"))
        n = n_concepts[d]
        ids = [f"{prefix}:{i:07d}" for i in range(n)]
        order = list(range(n))
        rng.shuffle(order)  # tree position -> concept index, so ids do not follow the tree
        tree_size = min(n, n_isa[d] + 1)
        parent_pos: list[int] = [-1] * tree_size
        children: dict[int, list[int]] = {}
        depth = [0] * tree_size
        nxt, p = 1, 0
        while nxt < tree_size:
            b = rng.randint(5, 8)
            kids = list(range(nxt, min(tree_size, nxt + b)))
            for k in kids:
                parent_pos[k] = p
                depth[k] = depth[p] + 1
            children[p] = kids
            nxt += len(kids)
            p += 1
        parent_of: dict[int, int] = {order[k]: order[parent_pos[k]] for k in range(1, tree_size)}
        labels = [words.label() for _ in range(n)]
        concept_rows, label_rows, rel_rows, sentences = [], [], [], []
        for i in range(n):
            typ = rng.choice(TYPES)
            par = parent_of.get(i)
            genus = labels[par] if par is not None else typ
            definition = words.words([_article(genus), genus, "that", rng.choice(VERBS)], 12, 25) + "."
            concept_rows.append((ids[i], name, labels[i], definition, typ, "ontology", "active", source))
            label_rows.append((ids[i], labels[i], "pref", "ontology"))
            if rng.random() < 0.3:
                for _ in range(rng.randint(1, 2)):
                    if rng.random() < 0.5:
                        alt = "".join(w[0] for w in labels[i].split()).upper()
                        alt += str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
                        label_rows.append((ids[i], alt, "abbreviation", "ontology"))
                    else:
                        label_rows.append((ids[i], words.label(), "alt", "ontology"))
            sentences.append(("c", ids[i], _cap(words.words([labels[i], rng.choice(VERBS)], 10, 20)) + "."))
        label_rows = list(dict.fromkeys(label_rows))  # (concept, kind, text) is unique
        isa_id: dict[int, str] = {}
        for child, par in sorted(parent_of.items()):
            rid = relation_id(ids[child], "is_a", ids[par], "ontology")
            isa_id[child] = rid
            rel_rows.append((rid, name, ids[child], "is_a", ids[par], "ontology", "asserted", 1.0, source))
        seen = {(c, "is_a", p) for c, p in parent_of.items()}
        rank = {order[k]: k for k in range(n)}  # part_of only goes to an earlier tree position: acyclic
        other = 0
        while other < n_other[d]:
            pred = rng.choice(OTHER_PREDICATES)
            s, o = rng.randrange(n), rng.randrange(n)
            if s == o or (s, pred, o) in seen or (pred == "part_of" and rank[s] <= rank[o]):
                continue
            seen.add((s, pred, o))
            rid = relation_id(ids[s], pred, ids[o], "ontology")
            rel_rows.append((rid, name, ids[s], pred, ids[o], "ontology", "asserted", 1.0, source))
            filler = words.words([], 3, 8)
            sentences.append(("r", rid, f"{_cap(labels[s])} {VERB[pred]} {labels[o]} {filler}."))
            other += 1
        # chains: transitive is_a, 2 or 3 hops upward
        candidates = [(k, h) for k in range(1, tree_size) for h in (2, 3) if depth[k] >= h]
        picked = rng.sample(candidates, min(n_chain[d], len(candidates)))
        chain_rows = []
        for k, hops in sorted(picked):
            path, pos = [], k
            for _ in range(hops):
                path.append(isa_id[order[pos]])
                pos = parent_pos[pos]
            rel_ids = json.dumps(path)
            hid = "chn:" + hashlib.sha256(f"transitive_is_a|{rel_ids}".encode()).hexdigest()[:24]
            split = "train" if rng.random() < 0.8 else "bench"
            chain_rows.append((hid, name, "transitive_is_a", rel_ids, hops, ids[order[k]], "is_a", ids[order[pos]],
                               split))
        # the corpus: one document, chunks of ~10 sentences, evidence spans relative to the chunk
        rng.shuffle(sentences)
        doc_path = f"corpora/{name}/{name}.txt"
        chunk_rows, evidence_rows, doc_parts = [], [], []
        offset = 0
        for ordinal, start in enumerate(range(0, len(sentences), CHUNK_SENTENCES)):
            group = sentences[start:start + CHUNK_SENTENCES]
            text, spans = "", []
            for kind, target, sentence in group:
                if text:
                    text += " "
                spans.append((kind, target, sentence, len(text), len(text) + len(sentence)))
                text += sentence
            cid = "chk:" + hashlib.sha256(f"{doc_path}|{ordinal}".encode()).hexdigest()[:28]
            chunk_rows.append([cid, None, ordinal, None, offset, offset + len(text), text,
                               hashlib.sha256(text.encode()).hexdigest()])
            for kind, target, sentence, a, b in spans:
                if kind == "c":
                    evidence_rows.append((target, None, cid, a, b, sentence, "syllabus.definition", "2", 1.0))
                else:
                    evidence_rows.append((None, target, cid, a, b, sentence, "syllabus.relation", "2", 1.0))
            doc_parts.append(text)
            offset += len(text) + 2
        document = "\n\n".join(doc_parts) + "\n"
        (root / "corpora" / name).mkdir(parents=True, exist_ok=True)
        (root / doc_path).write_text(document, encoding="utf-8")
        tb = time.perf_counter()
        doc_id = con.execute("INSERT INTO document(discipline, path, sha256, n_words) VALUES (?, ?, ?, ?)",
                             (name, doc_path, hashlib.sha256(document.encode()).hexdigest(),
                              len(document.split()))).lastrowid
        for row in chunk_rows:
            row[1] = doc_id
        con.executemany("INSERT INTO concept(id, discipline, pref_label, definition, type, origin, status, source) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", concept_rows)
        con.executemany("INSERT INTO label(concept_id, text, kind, origin) VALUES (?, ?, ?, ?)", label_rows)
        con.executemany("INSERT INTO relation(id, discipline, subject_id, predicate, object_id, origin, status, "
                        "confidence, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rel_rows)
        con.executemany("INSERT INTO chunk(id, document_id, ordinal, section, char_start, char_end, text, sha256) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk_rows)
        con.executemany("INSERT INTO evidence(concept_id, relation_id, chunk_id, char_start, char_end, sentence, "
                        "extractor, extractor_version, score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", evidence_rows)
        con.executemany("INSERT INTO chain(id, discipline, rule, relation_ids, hops, subject_id, predicate, object_id, "
                        "split) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", chain_rows)
        tc = time.perf_counter()
        t_gen += tb - ta
        t_ins += tc - tb
        # concepts worth editing: in the tree, not the root, with siblings, children and other relations
        related = {s for s, pred, o in seen if pred != "is_a"} | {o for s, pred, o in seen if pred != "is_a"}
        for k in range(1, tree_size):
            i = order[k]
            if (depth[k] >= 2 and len(children.get(parent_pos[k], ())) > 1 and children.get(k) and i in related):
                gen.edit_candidates.append(ids[i])
                break
        totals["concepts"] += n
        totals["labels"] += len(label_rows)
        totals["relations"] += len(rel_rows)
        totals["is_a"] += len(parent_of)
        totals["other_relations"] += other
        totals["evidence"] += len(evidence_rows)
        totals["chunks"] += len(chunk_rows)
        totals["documents"] += 1
        totals["chains"] += len(chain_rows)
        totals["train_chains"] += sum(r[-1] == "train" for r in chain_rows)
        say(f"  {name}: {n} concepts, {len(rel_rows)} relations, {len(chain_rows)} chains")
    td = time.perf_counter()
    con.execute("COMMIT")
    totals["journal_rows"] = con.execute("SELECT count(*) FROM graph_change").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    te = time.perf_counter()
    gen.counts = totals
    gen.seconds = {"generate": round(t_gen, 2), "insert": round(t_ins + (te - td), 2), "total": round(te - t0, 2)}
    return gen


def add_shape_arguments(ap) -> None:
    """The graph-shape options every scale benchmark takes (defaults: the 250k-concept graph)."""
    ap.add_argument("--concepts", type=int, default=250_000)
    ap.add_argument("--relations", type=int, default=200_000)
    ap.add_argument("--chains", type=int, default=50_000)
    ap.add_argument("--disciplines", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)


def generate_from_args(root: Path, args) -> dict:
    """The graph for a benchmark whose argparse namespace has concepts/relations/chains/disciplines/seed."""
    gen = generate(root, Shape(args.concepts, args.relations, args.chains, args.disciplines, args.seed))
    return {"generator": "compile_scale_data", **gen.counts}
