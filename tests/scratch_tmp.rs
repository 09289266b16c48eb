#[test]
fn scratch() {
    let text = std::fs::read_to_string("/work/shared/corpus/expected/keda.yaml").unwrap();
    let docs = pack::manifest::documents(&text);
    let (mut ok, mut no, mut okb, mut nob) = (0, 0, 0, 0);
    for (_, d) in docs {
        if pack::value::yaml::fast_reader_accepts(d, pack::value::yaml::Flavor::Yaml11) {
            ok += 1;
            okb += d.len();
        } else {
            no += 1;
            nob += d.len();
            println!("REJECT {}", &d[..d.len().min(200)]);
        }
    }
    println!("accepted {ok} docs {okb} bytes; rejected {no} docs {nob} bytes");
}
