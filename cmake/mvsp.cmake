# mvsp_embed(TARGET NAMESPACE FILES...): compiles text files (migrations, templates,
# message catalogs) into the library as a list of {path, content}, so the binary is
# self-contained. The generated function is `<NAMESPACE>::embedded_resources()`.
function(mvsp_embed target namespace base_dir)
  set(files ${ARGN})
  list(JOIN files "|" joined)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_resources.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAMESPACE=${namespace} -DBASE=${base_dir}
            "-DFILES=${joined}" -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding resources of ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()

# mvsp_component(NAME [DEPS ...]): a component library with a public include/ and a
# private src/; its sql/, templates/, messages/ and data/ (CSV, JSON, XML) are embedded.
function(mvsp_component name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  set(dir ${PROJECT_SOURCE_DIR}/src/${name})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/src/*.cpp ${dir}/web/*.cpp ${dir}/adapters/*.cpp)
  add_library(mvsp_${name} STATIC ${sources})
  target_include_directories(mvsp_${name} PUBLIC ${dir}/include PRIVATE ${dir}/src)
  target_link_libraries(mvsp_${name} PUBLIC ${ARG_DEPS})
  file(GLOB resources CONFIGURE_DEPENDS ${dir}/sql/*.sql ${dir}/templates/*.mustache
       ${dir}/messages/*.toml ${dir}/data/*.csv ${dir}/data/*.json ${dir}/data/*.xml)
  mvsp_embed(mvsp_${name} mvsp::${name} ${dir} ${resources})
endfunction()
