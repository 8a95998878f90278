glint_fuzz(journal_record_fuzz ${CMAKE_CURRENT_SOURCE_DIR}/journal_record_fuzz.cpp glint_journal)
