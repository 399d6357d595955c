`default_nettype none

// The virtio-ism endpoint (hw/endpoints/virtio-ism.yaml, through the generated virtio_ism_ep_pkg;
// VirtioPciEndpointModel in the model): PCI configuration space, BAR0 (common configuration, ISR,
// notify region, device configuration), BAR1 (MSI-X table and PBA), BAR2 (the chunk window and the
// ISM notify area), the firmware CSR port, the memory master behind the chunk window and the MSI
// output. hw/rtl/endpoint/README.md has the port contract.
module ism_endpoint_top #(
  parameter bit EMULATE_HEADER = 1'b1,  // 0: vendor hard IP owns the type-0 header; cfg_ reads the capabilities
  parameter int unsigned CfgAw  = 12,
  parameter int unsigned Bar0Aw = virtio_ism_ep_pkg::BAR0_AW,
  parameter int unsigned Bar1Aw = virtio_ism_ep_pkg::BAR1_AW,
  parameter int unsigned Bar2Aw = virtio_ism_ep_pkg::BAR2_AW,
  parameter int unsigned FwAw   = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // AXI4-Lite slave cfg_*
  input  wire logic [CfgAw-1:0] cfg_awaddr_i,
  input  wire logic          cfg_awvalid_i,
  output logic               cfg_awready_o,
  input  wire logic [31:0]   cfg_wdata_i,
  input  wire logic [3:0]    cfg_wstrb_i,
  input  wire logic          cfg_wvalid_i,
  output logic               cfg_wready_o,
  output logic [1:0]         cfg_bresp_o,
  output logic               cfg_bvalid_o,
  input  wire logic          cfg_bready_i,
  input  wire logic [CfgAw-1:0] cfg_araddr_i,
  input  wire logic          cfg_arvalid_i,
  output logic               cfg_arready_o,
  output logic [31:0]        cfg_rdata_o,
  output logic [1:0]         cfg_rresp_o,
  output logic               cfg_rvalid_o,
  input  wire logic          cfg_rready_i,
  // AXI4-Lite slave bar0_*
  input  wire logic [Bar0Aw-1:0] bar0_awaddr_i,
  input  wire logic          bar0_awvalid_i,
  output logic               bar0_awready_o,
  input  wire logic [31:0]   bar0_wdata_i,
  input  wire logic [3:0]    bar0_wstrb_i,
  input  wire logic          bar0_wvalid_i,
  output logic               bar0_wready_o,
  output logic [1:0]         bar0_bresp_o,
  output logic               bar0_bvalid_o,
  input  wire logic          bar0_bready_i,
  input  wire logic [Bar0Aw-1:0] bar0_araddr_i,
  input  wire logic          bar0_arvalid_i,
  output logic               bar0_arready_o,
  output logic [31:0]        bar0_rdata_o,
  output logic [1:0]         bar0_rresp_o,
  output logic               bar0_rvalid_o,
  input  wire logic          bar0_rready_i,
  // AXI4-Lite slave bar1_*
  input  wire logic [Bar1Aw-1:0] bar1_awaddr_i,
  input  wire logic          bar1_awvalid_i,
  output logic               bar1_awready_o,
  input  wire logic [31:0]   bar1_wdata_i,
  input  wire logic [3:0]    bar1_wstrb_i,
  input  wire logic          bar1_wvalid_i,
  output logic               bar1_wready_o,
  output logic [1:0]         bar1_bresp_o,
  output logic               bar1_bvalid_o,
  input  wire logic          bar1_bready_i,
  input  wire logic [Bar1Aw-1:0] bar1_araddr_i,
  input  wire logic          bar1_arvalid_i,
  output logic               bar1_arready_o,
  output logic [31:0]        bar1_rdata_o,
  output logic [1:0]         bar1_rresp_o,
  output logic               bar1_rvalid_o,
  input  wire logic          bar1_rready_i,
  // AXI4-Lite slave bar2_*
  input  wire logic [Bar2Aw-1:0] bar2_awaddr_i,
  input  wire logic          bar2_awvalid_i,
  output logic               bar2_awready_o,
  input  wire logic [31:0]   bar2_wdata_i,
  input  wire logic [3:0]    bar2_wstrb_i,
  input  wire logic          bar2_wvalid_i,
  output logic               bar2_wready_o,
  output logic [1:0]         bar2_bresp_o,
  output logic               bar2_bvalid_o,
  input  wire logic          bar2_bready_i,
  input  wire logic [Bar2Aw-1:0] bar2_araddr_i,
  input  wire logic          bar2_arvalid_i,
  output logic               bar2_arready_o,
  output logic [31:0]        bar2_rdata_o,
  output logic [1:0]         bar2_rresp_o,
  output logic               bar2_rvalid_o,
  input  wire logic          bar2_rready_i,
  // AXI4-Lite slave fw_*
  input  wire logic [FwAw-1:0] fw_awaddr_i,
  input  wire logic          fw_awvalid_i,
  output logic               fw_awready_o,
  input  wire logic [31:0]   fw_wdata_i,
  input  wire logic [3:0]    fw_wstrb_i,
  input  wire logic          fw_wvalid_i,
  output logic               fw_wready_o,
  output logic [1:0]         fw_bresp_o,
  output logic               fw_bvalid_o,
  input  wire logic          fw_bready_i,
  input  wire logic [FwAw-1:0] fw_araddr_i,
  input  wire logic          fw_arvalid_i,
  output logic               fw_arready_o,
  output logic [31:0]        fw_rdata_o,
  output logic [1:0]         fw_rresp_o,
  output logic               fw_rvalid_o,
  input  wire logic          fw_rready_i,
  // Memory master: BAR2 chunk window accesses, in backing memory
  output logic               mem_req_o,
  output logic               mem_sys_o,   // the request is for host system memory (a system-memory chunk slot)
  output logic               mem_we_o,
  output logic [63:0]        mem_addr_o,
  output logic [3:0]         mem_be_o,
  output logic [31:0]        mem_wdata_o,
  input  wire logic          mem_ack_i,
  input  wire logic [31:0]   mem_rdata_i,
  // MSI messages
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam logic [47:0] BarAw = {8'(virtio_ism_ep_pkg::BAR5_AW), 8'(virtio_ism_ep_pkg::BAR4_AW), 8'(virtio_ism_ep_pkg::BAR3_AW),
                                    8'(virtio_ism_ep_pkg::BAR2_AW), 8'(virtio_ism_ep_pkg::BAR1_AW), 8'(virtio_ism_ep_pkg::BAR0_AW)};
  localparam int unsigned ReqW  = axil_pkg::AXIL_REQ_W;
  localparam int unsigned RspW  = axil_pkg::AXIL_RSP_W;

  // Structure windows inside the BARs (the description places each in one BAR).
  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  // ---- the flat ports as AXI4-Lite structs ----

  axil_pkg::axil_req_t cfg_req, bar0_req, bar1_req, bar2_req, fw_req;
  axil_pkg::axil_rsp_t cfg_rsp, bar0_rsp, bar1_rsp, bar2_rsp, fw_rsp;
  `AXIL_FLAT_SLAVE(cfg_, cfg_req, cfg_rsp)
  `AXIL_FLAT_SLAVE(bar0_, bar0_req, bar0_rsp)
  `AXIL_FLAT_SLAVE(bar1_, bar1_req, bar1_rsp)
  `AXIL_FLAT_SLAVE(bar2_, bar2_req, bar2_rsp)
  `AXIL_FLAT_SLAVE(fw_, fw_req, fw_rsp)

  logic [6*ReqW-1:0] bar_req, dev_req;
  logic [6*RspW-1:0] bar_rsp, dev_rsp;
  assign bar_req  = {{(3*ReqW){1'b0}}, bar2_req, bar1_req, bar0_req};
  assign bar0_rsp = bar_rsp[RspW*0+:RspW];
  assign bar1_rsp = bar_rsp[RspW*1+:RspW];
  assign bar2_rsp = bar_rsp[RspW*2+:RspW];

  // ---- the virtio device on its PCI function; BAR2 and the device configuration are ISM's ----

  axil_pkg::axil_req_t devcfg_req, bar2_dev_req;
  axil_pkg::axil_rsp_t devcfg_rsp, bar2_dev_rsp;
  fw_csr_reg_pkg::fw_csr_reg2hw_t fw_csr_reg2hw;
  logic        bus_master;
  logic        kick_push, kick_grant;
  logic [31:0] kick_data;

  ep_virtio_pci #(
    .EmulateHeader    (EMULATE_HEADER),
    .CfgAw            (CfgAw),
    .FwAw             (FwAw),
    .VendorId         (virtio_ism_ep_pkg::VENDOR_ID),
    .DeviceId         (virtio_ism_ep_pkg::DEVICE_ID),
    .RevisionId       (virtio_ism_ep_pkg::REVISION_ID),
    .BaseClass        (virtio_ism_ep_pkg::BASE_CLASS),
    .Subclass         (virtio_ism_ep_pkg::SUBCLASS),
    .ProgIf           (virtio_ism_ep_pkg::PROG_IF),
    .SubsystemVendorId(virtio_ism_ep_pkg::SUBSYSTEM_VENDOR_ID),
    .SubsystemId      (virtio_ism_ep_pkg::SUBSYSTEM_ID),
    .CapPtr           (virtio_ism_ep_pkg::CAP_PTR),
    .BarAw            (BarAw),
    .BarWmask         (virtio_ism_ep_pkg::BAR_WMASK),
    .BarType          (virtio_ism_ep_pkg::BAR_TYPE),
    .CapRom           (virtio_ism_ep_pkg::CAP_ROM),
    .MsixCapOffset    (virtio_ism_ep_pkg::MSIX_CAP_OFFSET),
    .PciCfgCapOffset  (virtio_ism_ep_pkg::PCI_CFG_CAP_OFFSET),
    .MsixVectors      (virtio_ism_ep_pkg::MSIX_VECTORS),
    .MsixBar          (virtio_ism_ep_pkg::MSIX_TABLE_BAR),
    .MsixTableOffset  (virtio_ism_ep_pkg::MSIX_TABLE_OFFSET),
    .MsixPbaOffset    (virtio_ism_ep_pkg::MSIX_PBA_OFFSET),
    .EventDepth       (virtio_ism_ep_pkg::EVENT_FIFO_DEPTH),
    .VirtioDeviceId   (virtio_ism_ep_pkg::VIRTIO_DEVICE_ID),
    .ChunkSlots       (virtio_ism_ep_pkg::CHUNKS_SLOTS),
    .VirtioBar        (virtio_ism_ep_pkg::COMMON_BAR),
    .Queues           (virtio_ism_ep_pkg::QUEUES),
    .CommonOffset     (virtio_ism_ep_pkg::COMMON_OFFSET),
    .CommonLength     (virtio_ism_ep_pkg::COMMON_LENGTH),
    .IsrOffset        (virtio_ism_ep_pkg::ISR_OFFSET),
    .IsrLength        (virtio_ism_ep_pkg::ISR_LENGTH),
    .NotifyOffset     (virtio_ism_ep_pkg::NOTIFY_OFFSET),
    .NotifyLength     (virtio_ism_ep_pkg::NOTIFY_LENGTH),
    .NotifyOffMultiplier(virtio_ism_ep_pkg::NOTIFY_OFF_MULTIPLIER),
    .HasDeviceCfg     (virtio_ism_ep_pkg::HAS_DEVICE_CFG),
    .DeviceCfgOffset  (virtio_ism_ep_pkg::DEVICE_CFG_OFFSET),
    .DeviceCfgLength  (virtio_ism_ep_pkg::DEVICE_CFG_LENGTH),
    .XP               (1)
  ) u_virtio (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .cfg_req_i   (cfg_req),
    .cfg_rsp_o   (cfg_rsp),
    .bar_req_i   (bar_req),
    .bar_rsp_o   (bar_rsp),
    .fw_req_i    (fw_req),
    .fw_rsp_o    (fw_rsp),
    .dev_req_o   (dev_req),
    .dev_rsp_i   (dev_rsp),
    .devcfg_req_o(devcfg_req),
    .devcfg_rsp_i(devcfg_rsp),
    .fw_reg2hw_o (fw_csr_reg2hw),
    .bus_master_o(bus_master),
    .push_i      (kick_push),
    .push_kind_i (fw_csr_reg_pkg::FW_EVENT_KIND_ISM_KICK),
    .push_data_i (kick_data),
    .push_grant_o(kick_grant),
    .fw_irq_o    (fw_irq_o),
    .msi_valid_o (msi_valid_o),
    .msi_ready_i (msi_ready_i),
    .msi_addr_o  (msi_addr_o),
    .msi_data_o  (msi_data_o)
  );
  assign bar2_dev_req = dev_req[ReqW*2+:ReqW];
  always_comb begin
    dev_rsp = '0;
    dev_rsp[RspW*2+:RspW] = bar2_dev_rsp;
  end

  // ---- the device configuration ----

  ism_config_reg_pkg::ism_config_reg2hw_t devcfg_reg2hw;
  ism_config_reg_pkg::ism_config_hw2reg_t devcfg_hw2reg;

  ism_config_reg_top #(.AW(Bar0Aw)) u_devcfg (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    `AXIL_REG_BLOCK_PORTS(devcfg_req, devcfg_rsp, Bar0Aw, 0),
    .reg2hw_o        (devcfg_reg2hw),
    .hw2reg_i        (devcfg_hw2reg)
  );

  // Its values: firmware writes them through fw_csr.
  ep_ism_devcfg u_devcfg_values (
    .clk_i          (clk_i),
    .rst_ni         (rst_ni),
    .fw_reg2hw_i    (fw_csr_reg2hw),
    .devcfg_hw2reg_o(devcfg_hw2reg)
  );

  // ---- BAR2: the chunk window, and the ISM notify area pushing ISM_KICK ----

  logic [Bar2Aw-1:0] bar2_dec_addr, bar2_m_addr;
  logic              bar2_dec_we;
  logic [31:0]       bar2_m_wdata;
  logic [3:0]        bar2_m_wstrb;
  logic              bar2_loc_req, bar2_loc_ack;
  logic [31:0]       bar2_loc_rdata;

  ep_axil_demux #(.N(1), .AW(Bar2Aw)) u_bar2_demux (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .s_req_i    (bar2_dev_req),
    .s_rsp_o    (bar2_dev_rsp),
    .dec_addr_o (bar2_dec_addr),
    .dec_we_o   (bar2_dec_we),
    .dec_sel_i  (1'b0),  // local targets only
    .m_addr_o   (bar2_m_addr),
    .m_wdata_o  (bar2_m_wdata),
    .m_wstrb_o  (bar2_m_wstrb),
    .m_awvalid_o(),
    .m_awready_i(1'b0),
    .m_wvalid_o (),
    .m_wready_i (1'b0),
    .m_bvalid_i (1'b0),
    .m_bready_o (),
    .m_arvalid_o(),
    .m_arready_i(1'b0),
    .m_rdata_i  (32'h0),
    .m_rvalid_i (1'b0),
    .m_rready_o (),
    .loc_req_o  (bar2_loc_req),
    .loc_ack_i  (bar2_loc_ack),
    .loc_rdata_i(bar2_loc_rdata)
  );


  logic [63:0] bar2_addr;
  logic        bar2_window, bar2_notify;
  logic        chunk_ack;
  logic [31:0] chunk_rdata;
  assign bar2_addr      = 64'(bar2_dec_addr);
  assign bar2_window    = in_window(bar2_addr, virtio_ism_ep_pkg::CHUNKS_OFFSET, virtio_ism_ep_pkg::CHUNKS_LENGTH);
  assign bar2_notify    = in_window(bar2_addr, virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET, virtio_ism_ep_pkg::NOTIFY_AREA_LENGTH);

  localparam int unsigned SlotBits = $clog2(virtio_ism_ep_pkg::CHUNKS_SLOTS) + virtio_ism_ep_pkg::CHUNKS_SHIFT;
  logic [63:0] chunk_off;
  assign chunk_off = bar2_addr - virtio_ism_ep_pkg::CHUNKS_OFFSET;

  ep_chunk_window #(
    .Slots       (virtio_ism_ep_pkg::CHUNKS_SLOTS),
    .ChunkShift  (virtio_ism_ep_pkg::CHUNKS_SHIFT),
    .BackingShift(virtio_ism_ep_pkg::BACKING_SHIFT)
  ) u_chunks (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .commit_i      (fw_csr_reg2hw.chunk_commit.commit.q),
    .commit_index_i(fw_csr_reg2hw.chunk_index.index.q),
    .commit_addr_i (fw_csr_reg2hw.chunk_addr.addr.q),
    .commit_read_i (fw_csr_reg2hw.chunk_perm.read.q),
    .commit_write_i(fw_csr_reg2hw.chunk_perm.write.q),
    .commit_valid_i(fw_csr_reg2hw.chunk_perm.valid.q),
    .commit_system_i(fw_csr_reg2hw.chunk_perm.system.q),
    .bus_master_i  (bus_master),
    .req_i         (bar2_loc_req && bar2_window),
    .we_i          (bar2_dec_we),
    .offset_i      (chunk_off[SlotBits-1:0]),
    .wdata_i       (bar2_m_wdata),
    .be_i          (bar2_m_wstrb),
    .ack_o         (chunk_ack),
    .rdata_o       (chunk_rdata),
    .mem_req_o     (mem_req_o),
    .mem_sys_o     (mem_sys_o),
    .mem_we_o      (mem_we_o),
    .mem_addr_o    (mem_addr_o),
    .mem_be_o      (mem_be_o),
    .mem_wdata_o   (mem_wdata_o),
    .mem_ack_i     (mem_ack_i),
    .mem_rdata_i   (mem_rdata_i)
  );

  // The ISM notify area: a write pushes ISM_KICK with the slot it hit.
  logic [63:0] kick_off;
  assign kick_off     = bar2_addr - virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET;
  assign kick_push    = bar2_loc_req && bar2_dec_we && bar2_notify;
  assign kick_data    = 32'(kick_off >> virtio_ism_ep_pkg::NOTIFY_AREA_SHIFT);
  assign bar2_loc_ack   = bar2_window ? chunk_ack : bar2_loc_req && (!kick_push || kick_grant);
  assign bar2_loc_rdata = bar2_window ? chunk_rdata : 32'h0;

endmodule

`default_nettype wire
