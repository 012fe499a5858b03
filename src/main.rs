fn main() {
    std::process::exit(coworker::app::main());
}
