"""What a course maintainer runs: module content and its schemas, the build from modules/ to
source/ and release/, the timing estimate, and the synthetic district data."""
